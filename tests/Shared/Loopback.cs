using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TSViz.Tests.Shared;

/// <summary>Loopback ports for servers the tests start themselves.</summary>
internal static class Loopback
{
    /// <summary>The lowest port the tests choose from.</summary>
    private const int Lowest = 10_000;

    private static readonly Lock Gate = new();
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A TCP port on 127.0.0.1 that was free a moment ago, below the kernel's ephemeral range, never the same twice in
    /// this process. A port the OS chose (bind to 0) comes from the ephemeral range, which outgoing connections draw from
    /// too: a monitor process that opened its database and broker connections before binding its HTTP port once found
    /// that port taken by one of them ("address already in use").
    /// </summary>
    public static int FreePort()
    {
        int top = EphemeralStart();
        for (int attempt = 0; attempt < 500; attempt++)
        {
            int port = Random.Shared.Next(Lowest, top);
            lock (Gate)
            {
                if (!HandedOut.Add(port))
                {
                    continue;
                }
            }

            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // In use by something else: try another.
            }
        }

        using var any = new TcpListener(IPAddress.Loopback, 0);
        any.Start();
        return ((IPEndPoint)any.LocalEndpoint).Port;
    }

    /// <summary>The first port of the kernel's ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range), 32768 elsewhere.</summary>
    private static int EphemeralStart()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(range)
            && File.ReadAllText(range).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries) is [var first, ..]
            && int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out int start)
            && start > Lowest + 1000)
        {
            return start;
        }

        return 32_768;
    }
}
