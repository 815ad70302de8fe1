using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// A real Mosquitto (Debian package) on a loopback port with the shipped plant settings (config/mosquitto/plant.conf):
/// persistence on, and queues large enough that QoS 1 bursts are not silently dropped (the defaults drop beyond 1,000).
/// </summary>
internal sealed class MosquittoBroker : IAsyncDisposable
{
    private const string Binary = "/usr/sbin/mosquitto";
    private readonly string directory = RepositoryPaths.NewTempDirectory();
    private Process? process;

    private MosquittoBroker(int port) => Port = port;

    public int Port { get; }

    /// <summary>
    /// The shipped authenticated plant set-up: plant.conf + plant-auth.conf + tsviz.acl, with a password file made by
    /// Debian's mosquitto_passwd from <paramref name="passwords"/> (user name to password). Only the two file paths differ.
    /// </summary>
    public static async Task<MosquittoBroker> StartAuthenticatedAsync(IReadOnlyDictionary<string, string> passwords)
    {
        var broker = new MosquittoBroker(Loopback.FreePort());
        string passwordFile = Path.Combine(broker.directory, "tsviz.passwd");
        foreach (var (user, password) in passwords)
        {
            var start = new ProcessStartInfo("/usr/bin/mosquitto_passwd") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string argument in (string[])[.. File.Exists(passwordFile) ? Array.Empty<string>() : ["-c"], "-b", passwordFile, user, password])
            {
                start.ArgumentList.Add(argument);
            }

            using var tool = Process.Start(start)!;
            await tool.WaitForExitAsync();
            if (tool.ExitCode != 0)
            {
                throw new InvalidOperationException($"mosquitto_passwd failed: {await tool.StandardError.ReadToEndAsync()}");
            }
        }

        string folder = Path.Combine(RepositoryPaths.Root, "config", "mosquitto");
        string auth = (await File.ReadAllTextAsync(Path.Combine(folder, "plant-auth.conf")))
            .Replace("/etc/mosquitto/tsviz.passwd", passwordFile, StringComparison.Ordinal)
            .Replace("/etc/mosquitto/tsviz.acl", Path.Combine(folder, "tsviz.acl"), StringComparison.Ordinal);
        await File.WriteAllTextAsync(broker.ConfigPath, string.Join('\n', [
            $"listener {broker.Port} 127.0.0.1",
            "user root",
            $"persistence_location {broker.directory}/",
            $"log_dest file {broker.directory}/mosquitto.log",
            await File.ReadAllTextAsync(Path.Combine(folder, "plant.conf")),
            auth,
        ]));
        await broker.LaunchAsync();
        return broker;
    }

    /// <summary>The shipped plant settings, anonymous, on <paramref name="port"/> (default: a free one) of 127.0.0.1.</summary>
    public static async Task<MosquittoBroker> StartAsync(TestCertificates? tls = null, int? port = null)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: install the Debian package mosquitto (scripts/test.sh does).");
        }

        var broker = new MosquittoBroker(port ?? Loopback.FreePort());
        string[] listener = tls is null ? [] :
        [
            // TLS as a plant runs it: its own CA, a server certificate for the address, client certificates required.
            $"cafile {tls.CaFile}",
            $"certfile {tls.ServerCertFile}",
            $"keyfile {tls.ServerKeyFile}",
            "require_certificate true",
            "tls_version tlsv1.2",
        ];
        // The shipped plant settings (config/mosquitto/plant.conf) plus this broker's listener, folder and log.
        await File.WriteAllTextAsync(broker.ConfigPath, string.Join('\n', [
            $"listener {broker.Port} 127.0.0.1",
            .. listener,
            "allow_anonymous true",
            "user root", // as root, Mosquitto would switch to user mosquitto, which cannot write the persistence folder
            $"persistence_location {broker.directory}/",
            $"log_dest file {broker.directory}/mosquitto.log",
            await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "config", "mosquitto", "plant.conf")),
        ]));
        await broker.LaunchAsync();
        return broker;
    }

    /// <summary>The broker's log (errors, warnings, notices), for a failing test's message.</summary>
    public string Log => File.Exists(Path.Combine(directory, "mosquitto.log")) ? File.ReadAllText(Path.Combine(directory, "mosquitto.log")) : string.Empty;

    private string ConfigPath => Path.Combine(directory, "mosquitto.conf");

    /// <summary>Stops the broker (saving its persistence) and starts it again on the same port.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await LaunchAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task LaunchAsync()
    {
        process = Process.Start(new ProcessStartInfo(Binary) { ArgumentList = { "-c", ConfigPath }, RedirectStandardError = true, RedirectStandardOutput = true })!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    private async Task StopAsync()
    {
        if (process is { HasExited: false })
        {
            // SIGTERM: Mosquitto writes its persistence file before exiting.
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        process = null;
    }
}
