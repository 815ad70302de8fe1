using System.Diagnostics;
using System.Globalization;

namespace TSViz.Monitor.Benchmarking;

/// <summary>
/// A PostgreSQL 15 (Debian package) for the benches, as scripts/cluster-demo.sh starts one: initdb in a temporary
/// folder, the server on a free loopback port, both run as the unprivileged user postgres (through setpriv when this
/// process is root: PostgreSQL refuses to run as root). Stopped and its folder deleted on dispose.
/// </summary>
internal sealed class PostgresProcess : IAsyncDisposable
{
    public const string Binaries = "/usr/lib/postgresql/15/bin";
    private const string SetPriv = "/usr/bin/setpriv";
    private readonly string folder;

    private PostgresProcess(string folder, int port)
    {
        this.folder = folder;
        Port = port;
    }

    public int Port { get; }

    /// <summary>An Npgsql connection string for <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database) => string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}");

    /// <summary>Throws (exit code 2 through the verb) when PostgreSQL 15 or Mosquitto is not installed, naming the package to install.</summary>
    public static void EnsureInstalled(bool mosquitto)
    {
        if (!File.Exists(Path.Combine(Binaries, "postgres")))
        {
            throw new FileNotFoundException($"{Binaries}/postgres is missing: install it with apt-get install -y postgresql-15");
        }

        if (mosquitto && !File.Exists("/usr/sbin/mosquitto"))
        {
            throw new FileNotFoundException("/usr/sbin/mosquitto is missing: install it with apt-get install -y mosquitto");
        }

        if (IsRoot && !File.Exists(SetPriv))
        {
            throw new FileNotFoundException($"{SetPriv} is missing (PostgreSQL must run as user postgres): install it with apt-get install -y util-linux");
        }
    }

    public static async Task<PostgresProcess> StartAsync(CancellationToken cancellationToken)
    {
        EnsureInstalled(mosquitto: false);
        string folder = Directory.CreateTempSubdirectory("tsviz-bench-pg.").FullName;
        var server = new PostgresProcess(folder, MosquittoProcess.FreePort());
        try
        {
            if (!OperatingSystem.IsLinux())
            {
                throw new NotSupportedException("The bench's PostgreSQL runs on Linux only (the Debian package postgresql-15).");
            }

            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            string data = Path.Combine(folder, "pg"), socket = Path.Combine(folder, "socket");
            Directory.CreateDirectory(data);
            Directory.CreateDirectory(socket);
            if (IsRoot)
            {
                await RunAsync("/usr/bin/chown", ["postgres:postgres", data, socket], asPostgres: false, cancellationToken).ConfigureAwait(false);
            }

            await RunAsync(Path.Combine(Binaries, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--locale=C", "-E", "UTF8"], asPostgres: true, cancellationToken).ConfigureAwait(false);
            await RunAsync(Path.Combine(Binaries, "pg_ctl"), ["-D", data, "-l", Path.Combine(data, "server.log"), "-w", "-o",
                string.Create(CultureInfo.InvariantCulture, $"-p {server.Port} -k {socket} -c listen_addresses=127.0.0.1"), "start"], asPostgres: true, cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates the database <paramref name="name"/> (a fresh one per measured configuration).</summary>
    public Task CreateDatabaseAsync(string name, CancellationToken cancellationToken)
        => RunAsync(Path.Combine(Binaries, "createdb"), ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", name], asPostgres: false, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        string data = Path.Combine(folder, "pg");
        if (File.Exists(Path.Combine(data, "postmaster.pid")))
        {
            try
            {
                await RunAsync(Path.Combine(Binaries, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"], asPostgres: true, CancellationToken.None).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Not running after all.
            }
        }

        Directory.Delete(folder, recursive: true);
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static async Task RunAsync(string program, string[] arguments, bool asPostgres, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(asPostgres && IsRoot ? SetPriv : program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asPostgres && IsRoot)
        {
            foreach (string argument in (string[])["--reuid=postgres", "--regid=postgres", "--init-groups", "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        await stdout.ConfigureAwait(false);
        string errors = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} failed with exit code {process.ExitCode}: {errors.Trim()}");
        }
    }
}
