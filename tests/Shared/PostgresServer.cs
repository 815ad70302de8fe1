using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

// The shared test helpers' namespace, public now that a fixture type is (CA1716 asks of a library's public namespaces).
[assembly: SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Scope = "namespace", Target = "~N:TSViz.Tests.Shared", Justification = "Test helpers, not a library.")]

namespace TSViz.Tests.Shared;

/// <summary>
/// A real PostgreSQL 15 the tests start themselves: initdb into a fresh temporary folder, then postgres on a free
/// loopback port with its unix socket inside that folder, never the cluster a Debian package may have started. The
/// binaries come from /usr/lib/postgresql/15/bin (Debian's postgresql-15). PostgreSQL refuses to run as root, and the
/// tests run as root: then the folder belongs to the unprivileged user postgres (the package creates it) and initdb,
/// postgres and pg_ctl run as that user through setpriv (util-linux), which execs, so the process this fixture holds is
/// the postmaster itself. Durability is off (fsync, synchronous_commit, full_page_writes): a test server only.
/// Each test takes its own database (<see cref="CreateDatabaseAsync"/>). Disposing stops the server and deletes the
/// folder; so does the test process's exit, a watchdog shell when the test process is killed, and failing all of that the
/// next start, which cleans every folder whose test process is gone.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime, IDisposable
{
    /// <summary>Where Debian's postgresql-15 puts the server and its client programs.</summary>
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";

    /// <summary>The unprivileged user the server runs as when the tests run as root (the Debian package creates it).</summary>
    public const string ServiceUser = "postgres";

    /// <summary>The superuser initdb creates (trust authentication: a throwaway server on loopback).</summary>
    public const string Superuser = "postgres";

    private const string Setpriv = "/usr/bin/setpriv";
    private static readonly string FoldersRoot = Path.Combine(Path.GetTempPath(), "tsviz-postgres");
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The watchdog's script: while the test process lives it sleeps; once that process is gone (killed, so nothing of it
    /// ran) it stops the server (fast shutdown, then a kill) and deletes the folder. $1 test process, $2 data, $3 folder.
    /// </summary>
    private const string WatchdogScript = """
        while kill -0 "$1" 2>/dev/null; do sleep 1; done
        if pid=$(head -n 1 "$2/postmaster.pid" 2>/dev/null); then
            kill -INT "$pid" 2>/dev/null
            for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
            kill -KILL "$pid" 2>/dev/null
        fi
        rm -rf "$3"
        """;

    private readonly StringBuilder log = new();
    private Process? server;
    private Process? watchdog;
    private bool asServiceUser;
    private int databases;

    /// <summary>The address the server listens on.</summary>
    public const string Host = "127.0.0.1";

    /// <summary>The port the server listens on (free when it started).</summary>
    public int Port { get; private set; }

    /// <summary>The temporary folder: data, socket and log.</summary>
    public string Folder { get; private set; } = string.Empty;

    /// <summary>The data directory initdb made.</summary>
    public string DataDirectory => Path.Combine(Folder, "data");

    /// <summary>The folder of the server's unix socket.</summary>
    public string SocketDirectory => Path.Combine(Folder, "socket");

    /// <summary>What the server wrote to stderr so far (for a failure's message).</summary>
    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    /// <summary>An Npgsql connection string of <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database)
        => string.Create(CultureInfo.InvariantCulture, $"Host={Host};Port={Port};Username={Superuser};Database={database};Timeout=30;Command Timeout=60");

    /// <summary>
    /// Creates an empty database (from template0) and returns its connection string. Its default collation is ICU's
    /// English one, as a plant's database would sort text (case and punctuation aside, unlike byte order), so a test
    /// sees whether code that must compare ordinally says so.
    /// </summary>
    public async Task<string> CreateDatabaseAsync()
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"t{Interlocked.Increment(ref databases)}_{Guid.NewGuid():N}");
        await RunAsync(Path.Combine(BinDirectory, "createdb"),
            ["-h", Host, "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", Superuser, "-T", "template0", "-E", "UTF8", "--locale-provider=icu", "--icu-locale=en-US", name],
            asUser: false);
        return ConnectionString(name);
    }

    /// <summary>Starts the server; fails with the missing Debian package's name when PostgreSQL or its user is not there.</summary>
    public async Task InitializeAsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The PostgreSQL tests start Debian's PostgreSQL 15: they run on Linux.");
        }

        string postgres = Path.Combine(BinDirectory, "postgres");
        if (!File.Exists(postgres))
        {
            throw new InvalidOperationException(
                $"PostgreSQL 15 is not installed ({postgres} is missing): install the Debian package postgresql-15 (apt-get install postgresql-15; scripts/test.sh does).");
        }

        asServiceUser = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
        if (asServiceUser)
        {
            if (!UserExists(ServiceUser))
            {
                throw new InvalidOperationException(
                    $"The tests run as root and PostgreSQL refuses to run as root, but the unprivileged user '{ServiceUser}' it would run as does not exist: install the Debian package postgresql-15 (its postgresql-common creates the user).");
            }

            if (!File.Exists(Setpriv))
            {
                throw new InvalidOperationException($"{Setpriv} is missing: install the Debian package util-linux (it runs PostgreSQL as user '{ServiceUser}').");
            }
        }

        RemoveFoldersOfDeadRuns();
        Folder = Path.Combine(FoldersRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(SocketDirectory);
        await File.WriteAllTextAsync(Path.Combine(Folder, "owner.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (asServiceUser)
        {
            File.SetUnixFileMode(FoldersRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            await RunAsync("/bin/chown", ["-R", $"{ServiceUser}:", Folder], asUser: false);
        }

        File.SetUnixFileMode(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await RunAsync(Path.Combine(BinDirectory, "initdb"), ["-D", DataDirectory, "-U", Superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], asUser: true);
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        StartWatchdog();

        // Another process may take the free port before postgres binds it: then start again on another.
        for (int attempt = 1; ; attempt++)
        {
            Port = Loopback.FreePort();
            Start(postgres);
            if (await WaitUntilReadyAsync())
            {
                return;
            }

            bool portTaken = Log.Contains("could not bind", StringComparison.Ordinal) || Log.Contains("could not create any TCP/IP sockets", StringComparison.Ordinal);
            if (!portTaken || attempt == 3)
            {
                string output = Log;
                await DisposeAsync();
                throw new InvalidOperationException($"PostgreSQL did not start on {Host}:{Port} within {StartTimeout.TotalSeconds} s. Its log:\n{output}");
            }
        }
    }

    /// <summary>Stops the server (fast shutdown, then a kill) and deletes its folder.</summary>
    public async Task DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        if (server is { HasExited: false } running)
        {
            try
            {
                await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "20"], asUser: true);
            }
            catch (InvalidOperationException)
            {
                // Killed below.
            }

            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await running.WaitForExitAsync(exit.Token);
            }
            catch (OperationCanceledException)
            {
                running.Kill(entireProcessTree: true);
            }
        }

        Stop();
    }

    /// <summary>Kills the server and deletes its folder at once (what <see cref="DisposeAsync"/> does after a fast shutdown).</summary>
    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Stop();
    }

    private void OnProcessExit(object? sender, EventArgs e) => Stop();

    /// <summary>Kills the server if it still runs and deletes the folder (what a process exit can still do).</summary>
    private void Stop()
    {
        if (watchdog is not null)
        {
            try
            {
                watchdog.Kill();
            }
            catch (InvalidOperationException)
            {
                // Gone already.
            }

            watchdog.Dispose();
            watchdog = null;
        }

        if (server is not null)
        {
            try
            {
                if (!server.HasExited)
                {
                    server.Kill(entireProcessTree: true);
                    server.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // Gone already.
            }

            server.Dispose();
            server = null;
        }

        DeleteFolder(Folder);
    }

    /// <summary>
    /// A shell (as the test process's user, so it may signal the server) that stops the server and deletes the folder
    /// when the test process dies without disposing this fixture, e.g. killed by a timeout.
    /// </summary>
    private void StartWatchdog()
    {
        var info = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (string a in new[] { "-c", WatchdogScript, "tsviz-postgres-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), DataDirectory, Folder })
        {
            info.ArgumentList.Add(a);
        }

        watchdog = Process.Start(info);
    }

    private void Start(string postgres)
    {
        lock (log)
        {
            log.Clear();
        }

        server?.Dispose();
        server = new Process { StartInfo = StartInfo(postgres, asServiceUser, ["-D", DataDirectory, "-p", Port.ToString(CultureInfo.InvariantCulture), "-k", SocketDirectory,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "shared_buffers=32MB", "-c", "max_connections=200", "-c", "logging_collector=off", "-c", "log_min_messages=warning"]) };
        server.ErrorDataReceived += (_, e) => Append(e.Data);
        server.OutputDataReceived += (_, e) => Append(e.Data);
        server.Start();
        server.BeginErrorReadLine();
        server.BeginOutputReadLine();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            if (log.Length < 64 * 1024)
            {
                log.AppendLine(line);
            }
        }
    }

    /// <summary>True once pg_isready reaches the server over TCP; false when the server exited or the time is up.</summary>
    private async Task<bool> WaitUntilReadyAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout)
        {
            if (server is null || server.HasExited)
            {
                return false;
            }

            using var ready = Process.Start(StartInfo(Path.Combine(BinDirectory, "pg_isready"), false,
                ["-h", Host, "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", Superuser, "-d", "postgres", "-t", "2"]))!;
            await ready.WaitForExitAsync();
            if (ready.ExitCode == 0)
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private async Task RunAsync(string program, string[] arguments, bool asUser)
    {
        using var process = Process.Start(StartInfo(program, asUser && asServiceUser, arguments))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} did not finish within 120 s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await stdout}{await stderr}");
        }
    }

    /// <summary>The program itself, or (as root) the program run as <see cref="ServiceUser"/> by setpriv, which execs it.</summary>
    private ProcessStartInfo StartInfo(string program, bool asUser, string[] arguments)
    {
        var info = new ProcessStartInfo(asUser ? Setpriv : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory.Exists(Folder) ? Folder : Path.GetTempPath(),
        };
        if (asUser)
        {
            foreach (string a in new[] { $"--reuid={ServiceUser}", $"--regid={ServiceUser}", "--init-groups", "--", program })
            {
                info.ArgumentList.Add(a);
            }

            info.Environment["HOME"] = Folder;
            info.Environment["USER"] = ServiceUser;
            info.Environment["LOGNAME"] = ServiceUser;
        }

        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["LC_ALL"] = "C";
        info.Environment.Remove("PGHOST");
        info.Environment.Remove("PGPORT");
        info.Environment.Remove("PGDATA");
        return info;
    }

    private static bool UserExists(string user)
        => File.Exists("/etc/passwd") && File.ReadLines("/etc/passwd").Any(line => line.StartsWith(user + ":", StringComparison.Ordinal));

    /// <summary>Folders whose test process is gone (it was killed before it could clean up): their server is stopped, the folder deleted.</summary>
    private static void RemoveFoldersOfDeadRuns()
    {
        if (!Directory.Exists(FoldersRoot))
        {
            return;
        }

        foreach (string folder in Directory.EnumerateDirectories(FoldersRoot))
        {
            try
            {
                // A folder without its owner's id yet may be another test process's that is just starting: left alone
                // unless it is old.
                string ownerFile = Path.Combine(folder, "owner.pid");
                bool ownerAlive = File.Exists(ownerFile)
                    ? int.TryParse(File.ReadAllText(ownerFile).Trim(), CultureInfo.InvariantCulture, out int owner) && IsRunning(owner)
                    : DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) < TimeSpan.FromMinutes(10);
                if (ownerAlive)
                {
                    continue;
                }

                string pidFile = Path.Combine(folder, "data", "postmaster.pid");
                if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault()?.Trim(), CultureInfo.InvariantCulture, out int postmaster) && IsRunning(postmaster))
                {
                    using var stale = Process.GetProcessById(postmaster);
                    if (stale.ProcessName.StartsWith("postgres", StringComparison.Ordinal))
                    {
                        stale.Kill(entireProcessTree: true);
                        stale.WaitForExit(10_000);
                    }
                }

                DeleteFolder(folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or System.ComponentModel.Win32Exception)
            {
                // Another run's folder we cannot clean: leave it.
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void DeleteFolder(string folder)
    {
        if (string.IsNullOrEmpty(folder) || !Directory.Exists(folder))
        {
            return;
        }

        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next run's clean-up.
        }
    }
}

/// <summary>The test classes that share one <see cref="PostgresServer"/> (each test makes its own database on it).</summary>
[CollectionDefinition(Name)]
public sealed class SharedPostgresServer : ICollectionFixture<PostgresServer>
{
    /// <summary>The collection's name, for [Collection(...)].</summary>
    public const string Name = "PostgreSQL server";
}
