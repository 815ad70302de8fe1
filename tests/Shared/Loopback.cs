using System.Net;
using System.Net.Sockets;

namespace TSViz.Tests.Shared;

/// <summary>Loopback ports for servers the tests start themselves.</summary>
internal static class Loopback
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago (the OS chose it).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
