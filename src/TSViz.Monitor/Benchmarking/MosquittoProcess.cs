using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TSViz.Monitor.Benchmarking;

/// <summary>A Mosquitto (Debian package) on a free loopback port with the shipped plant settings, for `bench --live`.</summary>
internal sealed class MosquittoProcess : IAsyncDisposable
{
    private const string Binary = "/usr/sbin/mosquitto";
    private readonly Process process;

    private MosquittoProcess(Process process, int port)
    {
        this.process = process;
        Port = port;
    }

    public int Port { get; }

    public static async Task<MosquittoProcess> StartAsync(string directory, CancellationToken cancellationToken)
    {
        if (!File.Exists(Binary))
        {
            throw new FileNotFoundException($"{Binary} is missing: install the Debian package mosquitto (apt-get install -y mosquitto) or pass --broker host:port.");
        }

        int port = FreePort();

        string config = Path.Combine(directory, "mosquitto.conf");
        await File.WriteAllLinesAsync(config, [
            string.Create(CultureInfo.InvariantCulture, $"listener {port} 127.0.0.1"),
            "allow_anonymous true",
            Environment.UserName == "root" ? "user root" : "# not root: Mosquitto keeps the current user",
            $"persistence_location {directory}/",
            $"log_dest file {directory}/mosquitto.log",
            await File.ReadAllTextAsync(Path.Combine("config", "mosquitto", "plant.conf"), cancellationToken).ConfigureAwait(false),
        ], cancellationToken).ConfigureAwait(false);
        var process = Process.Start(new ProcessStartInfo(Binary) { ArgumentList = { "-c", config }, RedirectStandardError = true, RedirectStandardOutput = true })!;
        var broker = new MosquittoProcess(process, port);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
                return broker;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A loopback TCP port that was free a moment ago (the OS chose it).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync().ConfigureAwait(false);
        }

        process.Dispose();
    }
}
