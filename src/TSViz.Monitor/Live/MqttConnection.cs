using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>How the monitor's MQTT clients (the worker and the simulator) reach the configured broker.</summary>
internal static class MqttConnection
{
    /// <summary>
    /// Host, port, credentials and TLS from <paramref name="mqtt"/>; the caller adds client id and session. With the
    /// embedded broker, <paramref name="embedded"/> is the client's in-process identity there (Mqtt:Username is for external brokers).
    /// </summary>
    public static MqttClientOptionsBuilder ClientOptions(this MqttSettings mqtt, (string Username, string Password)? embedded = null)
    {
        var builder = new MqttClientOptionsBuilder().WithTcpServer(mqtt.Host, mqtt.Port);
        if (mqtt.EmbeddedBroker && embedded is { } identity)
        {
            builder = builder.WithCredentials(identity.Username, identity.Password);
        }
        else if (mqtt.Username is not null)
        {
            builder = builder.WithCredentials(mqtt.Username, mqtt.Password);
        }

        if (mqtt.UseTls)
        {
            builder = builder.WithTlsOptions(tls => Tls(mqtt, tls));
        }

        return builder;
    }

    /// <summary>
    /// Socket buffers for each MQTT client. MQTTnet's default (8 KB) advertises a TCP receive window smaller than one
    /// explanation burst; Mosquitto then waits on window probes and the stream stalls for seconds at a time (seen at
    /// 20,000 samples/s: rwnd-limited 99 % of the time, megabytes unsent).
    /// </summary>
    public const int SocketBufferBytes = 1024 * 1024;

    /// <summary>Socket settings and the socket stream (<see cref="CoalescingSocketStream"/>) shared by every client of the monitor and its tools (applied to built options).</summary>
    public static MqttClientOptions WithSocketBuffers(this MqttClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ChannelOptions is MqttClientTcpOptions tcp)
        {
            tcp.BufferSize = SocketBufferBytes;
            tcp.NoDelay = true;
            tcp.StreamProvider = new CoalescingStreamProvider(tcp); // buffered reads, coalesced writes: a few system calls per batch, not per packet
        }

        return options;
    }

    /// <summary>TLS to the broker: the system trust store or a plant CA, and a client certificate when the broker requires one.</summary>
    private static void Tls(MqttSettings mqtt, MqttClientTlsOptionsBuilder tls)
    {
        tls.UseTls().WithSslProtocols(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
        if (mqtt.TlsServerName is not null)
        {
            tls.WithTargetHost(mqtt.TlsServerName);
        }

        if (mqtt.CaFile is not null)
        {
            var chain = new X509Certificate2Collection();
            chain.ImportFromPemFile(mqtt.CaFile);
            tls.WithTrustChain(chain);
        }

        if (mqtt.ClientCertFile is not null && mqtt.ClientKeyFile is not null)
        {
            using var pem = X509Certificate2.CreateFromPemFile(mqtt.ClientCertFile, mqtt.ClientKeyFile);
            // SslStream on Linux wants the key in a PKCS#12-backed certificate, not an ephemeral one.
            var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            tls.WithClientCertificates([certificate]);
        }
    }
}
