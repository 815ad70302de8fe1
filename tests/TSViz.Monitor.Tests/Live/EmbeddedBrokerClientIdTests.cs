using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using TSViz.Monitor.MqttSecurity;
using TSViz.Monitor.Tests.MqttSecurity;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// Zero-length client ids at the embedded broker (issue 15: Debian's mosquitto_sub without -i sends one over MQTT 3.1.1).
/// MQTT 3.1.1 section 3.1.3.1: a server may accept one with CleanSession 1 and must then assign a unique id; with
/// CleanSession 0 it must answer 0x02, identifier rejected. Real MQTTnet clients against the broker inside a running monitor.
/// </summary>
public sealed class EmbeddedBrokerClientIdTests
{
    private const string ViewerPassword = "viewer-password-2";

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V310)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Connect_EmptyClientIdWithCleanSession_AcceptedAndTwoSuchClientsGetDistinctIds(MqttProtocolVersion protocol)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (app, port) = await BrokerSecurityTests.StartMonitor([], cancel.Token);
        await using (app)
        {
            var (first, firstResult) = await BrokerSecurityTests.Connect(port, "", null, null, cancel.Token, protocol: protocol);
            var (second, secondResult) = await BrokerSecurityTests.Connect(port, "", null, null, cancel.Token, protocol: protocol);
            Assert.Equal(MqttClientConnectResultCode.Success, firstResult.ResultCode);
            Assert.Equal(MqttClientConnectResultCode.Success, secondResult.ResultCode);
            if (protocol == MqttProtocolVersion.V500)
            {
                // MQTT 5 returns the assigned id in CONNACK (Assigned Client Identifier); 3.1.1 has no field for it.
                Assert.StartsWith("auto-", firstResult.AssignedClientIdentifier, StringComparison.Ordinal);
                Assert.NotEqual(firstResult.AssignedClientIdentifier, secondResult.AssignedClientIdentifier);
            }

            // Both stay connected and both receive: had they been given the same id, the second would have taken over the first.
            var firstReceived = BrokerSecurityTests.Collect(first);
            var secondReceived = BrokerSecurityTests.Collect(second);
            var qos = MqttQualityOfServiceLevel.AtMostOnce;
            Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS0, await BrokerSecurityTests.Subscribe(first, "plant/#", cancel.Token, qos));
            Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS0, await BrokerSecurityTests.Subscribe(second, "plant/#", cancel.Token, qos));
            var (publisher, _) = await BrokerSecurityTests.Connect(port, "publisher-empty-id", null, null, cancel.Token);
            await BrokerSecurityTests.Publish(publisher, "plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(DateTimeOffset.UtcNow, 0), retain: false, cancel.Token);
            await LiveTestMonitor.Until(() => !firstReceived.IsEmpty && !secondReceived.IsEmpty, cancel.Token, () => $"{firstReceived.Count} and {secondReceived.Count} received");
            Assert.True(first.IsConnected && second.IsConnected);
            foreach (var client in new[] { first, second, publisher })
            {
                client.Dispose();
            }
        }
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V310)]
    public async Task Connect_EmptyClientIdWithPersistentSessionOverMqtt3_RefusedIdentifierRejected(MqttProtocolVersion protocol)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (app, port) = await BrokerSecurityTests.StartMonitor([], cancel.Token);
        await using (app)
        {
            // Written by hand: MQTTnet's client (like mosquitto_sub -c without -i) refuses to send this CONNECT at all.
            Assert.Equal([0x20, 0x02, 0x00, 0x02], await RawConnect(port, protocol, cleanSession: false, cancel.Token));
            // The same CONNECT with CleanSession 1 is accepted (0x00), so the refusal above is the session flag's.
            Assert.Equal([0x20, 0x02, 0x00, 0x00], await RawConnect(port, protocol, cleanSession: true, cancel.Token));
        }
    }

    [Fact]
    public async Task Connect_EmptyClientIdWithUsersConfigured_AuthenticatedAndHeldToItsRoleUnderTheAssignedId()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (app, port) = await BrokerSecurityTests.StartMonitor(new()
        {
            ["Monitor:Mqtt:Users:0:Username"] = "view",
            ["Monitor:Mqtt:Users:0:Role"] = "viewer",
            ["Monitor:Mqtt:Users:0:PasswordHash"] = PasswordHash.Create(ViewerPassword, PasswordHash.MinimumIterations),
        }, cancel.Token);
        await using (app)
        {
            var (anonymous, anonymousResult) = await BrokerSecurityTests.Connect(port, "", null, null, cancel.Token, protocol: MqttProtocolVersion.V311);
            Assert.Equal(MqttClientConnectResultCode.NotAuthorized, anonymousResult.ResultCode);
            var (wrong, wrongResult) = await BrokerSecurityTests.Connect(port, "", "view", "not-the-password", cancel.Token, protocol: MqttProtocolVersion.V311);
            Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, wrongResult.ResultCode);

            var (viewer, viewerResult) = await BrokerSecurityTests.Connect(port, "", "view", ViewerPassword, cancel.Token, protocol: MqttProtocolVersion.V311);
            Assert.Equal(MqttClientConnectResultCode.Success, viewerResult.ResultCode);
            // The subscription rules find the viewer's role under the id the broker assigned.
            Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS0, await BrokerSecurityTests.Subscribe(viewer, "tsviz/v1/#", cancel.Token, MqttQualityOfServiceLevel.AtMostOnce));
            Assert.Equal(MqttClientSubscribeResultCode.UnspecifiedError, await BrokerSecurityTests.Subscribe(viewer, "plant/#", cancel.Token, MqttQualityOfServiceLevel.AtMostOnce));
            foreach (var client in new[] { anonymous, wrong, viewer })
            {
                client.Dispose();
            }
        }
    }

    /// <summary>
    /// Sends an MQTT 3.1.1 or 3.1 CONNECT with a zero-length client id (no will, no credentials, keep-alive 60 s) and
    /// returns the 4 bytes of the CONNACK: 0x20 0x02, session present, return code (0x02: identifier rejected).
    /// </summary>
    private static async Task<byte[]> RawConnect(int port, MqttProtocolVersion protocol, bool cleanSession, CancellationToken cancellationToken)
    {
        byte[] name = protocol == MqttProtocolVersion.V310 ? "MQIsdp"u8.ToArray() : "MQTT"u8.ToArray();
        byte level = protocol == MqttProtocolVersion.V310 ? (byte)3 : (byte)4;
        byte[] variable = [0x00, (byte)name.Length, .. name, level, cleanSession ? (byte)0x02 : (byte)0x00, 0x00, 0x3C, 0x00, 0x00];
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port, cancellationToken);
        var stream = tcp.GetStream();
        await stream.WriteAsync((byte[])[0x10, (byte)variable.Length, .. variable], cancellationToken);
        var connack = new byte[4];
        await stream.ReadExactlyAsync(connack, cancellationToken);
        return connack;
    }
}
