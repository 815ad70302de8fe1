using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace TSViz.Monitor.Live;

/// <summary>
/// One client connection of the embedded broker, passed through unchanged except for its first packet, the CONNECT.
/// MQTT 3.1.1 section 3.1.3.1: a CONNECT with a zero-length client id and CleanSession 1 is accepted and the client gets a
/// unique id (<see cref="ClientIdAssignment.New"/>, as Debian's mosquitto_sub and mosquitto_pub without -i need); with
/// CleanSession 0 the server must answer CONNACK 0x02 (identifier rejected) and close. MQTT 3.1 required an id of 1 to 23
/// characters (Mosquitto refuses an empty one there); here its clients are treated as 3.1.1 ones, the lenient reading. MQTT 5 CONNECTs pass untouched: the broker's ValidatingConnectionAsync
/// handler assigns their id, which MQTTnet returns in CONNACK.
/// </summary>
internal sealed class ClientIdAssigningChannelAdapter(IMqttChannelAdapter inner, ILogger logger) : IMqttChannelAdapter
{
    private bool connectReceived;

    public long BytesReceived => inner.BytesReceived;

    public long BytesSent => inner.BytesSent;

    public X509Certificate2 ClientCertificate => inner.ClientCertificate;

    public EndPoint RemoteEndPoint => inner.RemoteEndPoint;

    public EndPoint LocalEndPoint => inner.LocalEndPoint;

    public bool IsSecureConnection => inner.IsSecureConnection;

    public MqttPacketFormatterAdapter PacketFormatterAdapter => inner.PacketFormatterAdapter;

    public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

    public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

    /// <summary>The first packet is looked at; every later one is the inner adapter's own task, with nothing added.</summary>
    public Task<MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken)
    {
        if (connectReceived)
        {
            return inner.ReceivePacketAsync(cancellationToken);
        }

        connectReceived = true;
        return ReceiveConnectAsync(cancellationToken);
    }

    public void ResetStatistics() => inner.ResetStatistics();

    public Task SendPacketAsync(MqttPacket packet, CancellationToken cancellationToken) => inner.SendPacketAsync(packet, cancellationToken);

    public void Dispose() => inner.Dispose();

    private async Task<MqttPacket> ReceiveConnectAsync(CancellationToken cancellationToken)
    {
        MqttPacket packet;
        try
        {
            packet = await inner.ReceivePacketAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MqttProtocolViolationException ex) when (ex.Message.Contains("[MQTT-3.1.3-7]", StringComparison.Ordinal))
        {
            // MQTTnet's MQTT 3 decoder throws on an empty id without CleanSession, and the server then closes the connection
            // without an answer; MQTT-3.1.3-8 asks for CONNACK 0x02 first, so a client can tell why.
            var protocol = inner.PacketFormatterAdapter.ProtocolVersion;
            ClientIdAssignment.LogRefused(logger, inner.RemoteEndPoint, protocol);
            await inner.SendPacketAsync(new MqttConnAckPacket { ReturnCode = MqttConnectReturnCode.ConnectionRefusedIdentifierRejected }, cancellationToken).ConfigureAwait(false);
            throw;
        }

        if (packet is MqttConnectPacket { CleanSession: true } connect && string.IsNullOrEmpty(connect.ClientId)
            && inner.PacketFormatterAdapter.ProtocolVersion is MqttProtocolVersion.V311 or MqttProtocolVersion.V310)
        {
            connect.ClientId = ClientIdAssignment.New();
            ClientIdAssignment.LogAssigned(logger, connect.ClientId, inner.RemoteEndPoint, inner.PacketFormatterAdapter.ProtocolVersion);
        }

        return packet;
    }
}
