using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Monitor.MqttSecurity;
using TSViz.Monitor.Tests.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.MqttSecurity;

/// <summary>The embedded broker's authentication and topic rules, against the real broker inside a running monitor.</summary>
public sealed class BrokerSecurityTests
{
    private const string GatewayPassword = "gateway-password-1";
    private const string ViewerPassword = "viewer-password-1";
    private static readonly string GatewayHash = PasswordHash.Create(GatewayPassword, PasswordHash.MinimumIterations);
    private static readonly string ViewerHash = PasswordHash.Create(ViewerPassword, PasswordHash.MinimumIterations);

    [Fact]
    public async Task Broker_WithUsers_GatewayTelemetryReachesViewerAndAnonymousOrWrongPasswordIsRefused()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (app, port) = await StartMonitor(WithUsers(), cancel.Token);
        await using (app)
        {
            var (anonymous, anonymousResult) = await Connect(port, "anon-1", null, null, cancel.Token);
            Assert.Equal(MqttClientConnectResultCode.NotAuthorized, anonymousResult.ResultCode);
            var (wrong, wrongResult) = await Connect(port, "gw-wrong", "gw", "not-the-password", cancel.Token);
            Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, wrongResult.ResultCode);
            var (unknown, unknownResult) = await Connect(port, "nobody-1", "nobody", GatewayPassword, cancel.Token);
            Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, unknownResult.ResultCode);

            var (viewer, viewerResult) = await Connect(port, "viewer-1", "view", ViewerPassword, cancel.Token);
            Assert.Equal(MqttClientConnectResultCode.Success, viewerResult.ResultCode);
            var received = Collect(viewer);
            var granted = await viewer.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("tsviz/v1/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancel.Token);
            Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, granted.Items.Single().ResultCode);

            var (gateway, gatewayResult) = await Connect(port, "gw-1", "gw", GatewayPassword, cancel.Token);
            Assert.Equal(MqttClientConnectResultCode.Success, gatewayResult.ResultCode);
            await PublishWindow(gateway, "m1", WindowLength(app), cancel.Token);
            await LiveTestMonitor.Until(() => received.Any(r => r.Topic == "tsviz/v1/line1/m1/explanation"), cancel.Token, () => $"{received.Count} received");

            foreach (var client in new[] { anonymous, wrong, unknown, viewer, gateway })
            {
                client.Dispose();
            }

            string metrics = await Metrics(app, cancel.Token);
            Assert.Equal(1, LiveTestMonitor.Metric(metrics, "tsviz_broker_refused_total{action=\"connect\",reason=\"anonymous\"}"));
            Assert.Equal(2, LiveTestMonitor.Metric(metrics, "tsviz_broker_refused_total{action=\"connect\",reason=\"bad_credentials\"}"));
        }
    }

    [Fact]
    public async Task Broker_WithUsers_NoRoleButTheMonitorPublishesOnItsTopicsAndViewerAndGatewayStayInTheirLanes()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (app, port) = await StartMonitor(WithUsers(), cancel.Token);
        await using (app)
        {
            await MonitorRetainsAlert(app, cancel.Token);
            var (gateway, _) = await Connect(port, "gw-2", "gw", GatewayPassword, cancel.Token);
            var (viewer, _) = await Connect(port, "viewer-2", "view", ViewerPassword, cancel.Token);

            // Neither forges an alert nor clears the retained one (an empty retained payload).
            foreach (var client in new[] { gateway, viewer })
            {
                Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await Publish(client, "tsviz/v1/m9/alert", "{\"forged\":true}", retain: true, cancel.Token)).ReasonCode);
                Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await Publish(client, "tsviz/v1/m9/alert", "", retain: true, cancel.Token)).ReasonCode);
                Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await Publish(client, "tsviz/v1/m9/explanation", "{\"forged\":true}", retain: false, cancel.Token)).ReasonCode);
            }

            Assert.Equal("{\"monitor\":true}", await RetainedAlert(port, "viewer-check", "view", ViewerPassword, cancel.Token));

            // A viewer publishes nothing and reads only the monitor's output; a gateway subscribes to nothing.
            Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await Publish(viewer, "plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(DateTimeOffset.UtcNow, 0), retain: false, cancel.Token)).ReasonCode);
            Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, await Subscribe(viewer, "plant/#", cancel.Token));
            Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, await Subscribe(viewer, "#", cancel.Token));
            Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, await Subscribe(gateway, "tsviz/v1/#", cancel.Token));
            Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, await Subscribe(gateway, "plant/#", cancel.Token));
            Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await Publish(gateway, "plant/line1/m1/status", "{}", retain: false, cancel.Token)).ReasonCode);
            Assert.Equal(MqttClientPublishReasonCode.Success, (await Publish(gateway, "plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(DateTimeOffset.UtcNow, 0), retain: false, cancel.Token)).ReasonCode);

            string metrics = await Metrics(app, cancel.Token);
            Assert.Equal(4, LiveTestMonitor.Metric(metrics, "tsviz_broker_refused_total{action=\"publish\",reason=\"gateway\"}"));
            Assert.Equal(4, LiveTestMonitor.Metric(metrics, "tsviz_broker_refused_total{action=\"publish\",reason=\"viewer\"}"));
            Assert.Equal(2, LiveTestMonitor.Metric(metrics, "tsviz_broker_refused_total{action=\"subscribe\",reason=\"viewer\"}"));
            Assert.Equal(2, LiveTestMonitor.Metric(metrics, "tsviz_broker_refused_total{action=\"subscribe\",reason=\"gateway\"}"));
            gateway.Dispose();
            viewer.Dispose();
        }
    }

    [Fact]
    public async Task Broker_AViewersSession_CannotBeResumedByAnotherUserWhileItLives()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (app, port) = await StartMonitor(WithUsers(), cancel.Token);
        await using (app)
        {
            // The viewer's persistent session holds a tsviz/v1/# subscription; resuming it would hand that to a gateway.
            var (viewer, _) = await Connect(port, "viewer-7", "view", ViewerPassword, cancel.Token, cleanStart: false);
            Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, await Subscribe(viewer, "tsviz/v1/#", cancel.Token));
            var (thief, stolen) = await Connect(port, "viewer-7", "gw", GatewayPassword, cancel.Token, cleanStart: false);
            Assert.Equal(MqttClientConnectResultCode.ClientIdentifierNotValid, stolen.ResultCode);
            Assert.True(viewer.IsConnected);

            // Nor once the viewer has gone: the session outlives the connection.
            await viewer.DisconnectAsync(cancellationToken: cancel.Token);
            var (later, resumed) = await Connect(port, "viewer-7", "gw", GatewayPassword, cancel.Token, cleanStart: false);
            Assert.Equal(MqttClientConnectResultCode.ClientIdentifierNotValid, resumed.ResultCode);
            var (back, own) = await Connect(port, "viewer-7", "view", ViewerPassword, cancel.Token, cleanStart: false);
            Assert.Equal(MqttClientConnectResultCode.Success, own.ResultCode);
            Assert.True(own.IsSessionPresent);

            string metrics = await Metrics(app, cancel.Token);
            Assert.Equal(2, LiveTestMonitor.Metric(metrics, "tsviz_broker_refused_total{action=\"connect\",reason=\"client_id_in_use\"}"));
            foreach (var client in new[] { viewer, thief, later, back })
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task Broker_MonitorsClientId_RefusedToEveryoneElseAndTheMonitorKeepsItsConnectionAndInput()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (app, port) = await StartMonitor([], cancel.Token); // the demo: anonymous clients are let in
        await using (app)
        {
            var gateway = app.Services.GetRequiredService<MqttGateway>();
            await LiveTestMonitor.Until(() => gateway.IsConnected, cancel.Token);
            string monitorId = $"tsviz-sec-{port}";
            var hijacked = new ConcurrentQueue<string>();
            foreach (var (user, password) in new (string?, string?)[] { (null, null), (monitorId, "guessed"), ("someone", "else") })
            {
                var (thief, result) = await Connect(port, monitorId, user, password, cancel.Token, cleanStart: false);
                Assert.NotEqual(MqttClientConnectResultCode.Success, result.ResultCode);
                thief.ApplicationMessageReceivedAsync += e =>
                {
                    hijacked.Enqueue(e.ApplicationMessage.Topic);
                    return Task.CompletedTask;
                };
            }

            await Task.Delay(1500, cancel.Token); // a takeover would have dropped the monitor's connection by now
            Assert.True(gateway.IsConnected);
            var (observer, _) = await Connect(port, "observer-3", null, null, cancel.Token);
            var received = Collect(observer);
            await Subscribe(observer, "tsviz/v1/#", cancel.Token);
            var (publisher, _) = await Connect(port, "publisher-3", null, null, cancel.Token);
            await PublishWindow(publisher, "m3", WindowLength(app), cancel.Token);
            await LiveTestMonitor.Until(() => received.Any(r => r.Topic == "tsviz/v1/line1/m3/explanation"), cancel.Token, () => $"{received.Count} received");
            Assert.Empty(hijacked);

            string metrics = await Metrics(app, cancel.Token);
            Assert.Equal(0, LiveTestMonitor.Metric(metrics, "tsviz_broker_reconnects_total"));
            Assert.Equal(3, LiveTestMonitor.Metric(metrics, "tsviz_broker_refused_total{action=\"connect\",reason=\"reserved_client_id\"}"));
            observer.Dispose();
            publisher.Dispose();
        }
    }

    [Fact]
    public async Task Broker_Demo_AnonymousSubscribesToAnythingAndSendsTelemetryButCannotTouchTheMonitorsTopics()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (app, port) = await StartMonitor([], cancel.Token);
        await using (app)
        {
            await MonitorRetainsAlert(app, cancel.Token);

            // An anonymous MQTT 3.1.1 reader with a client id (Debian's mosquitto_sub sends an empty one: issue 15).
            var (sub, subResult) = await Connect(port, "mosq-readme", null, null, cancel.Token, protocol: MqttProtocolVersion.V311);
            Assert.Equal(MqttClientConnectResultCode.Success, subResult.ResultCode);
            var retained = Collect(sub);
            Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS0, await Subscribe(sub, "tsviz/v1/#", cancel.Token, MqttQualityOfServiceLevel.AtMostOnce));
            await LiveTestMonitor.Until(() => retained.Any(r => r.Topic == "tsviz/v1/m9/alert"), cancel.Token);

            var (anonymous, _) = await Connect(port, "anon-4", null, null, cancel.Token);
            Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, await Subscribe(anonymous, "#", cancel.Token));
            Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await Publish(anonymous, "tsviz/v1/m9/alert", "{\"forged\":true}", retain: true, cancel.Token)).ReasonCode);
            Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await Publish(anonymous, "tsviz/v1/m9/alert", "", retain: true, cancel.Token)).ReasonCode);
            await anonymous.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("tsviz/v1/m9/alert").WithPayload("{\"qos0\":true}").WithRetainFlag().Build(), cancel.Token);
            Assert.Equal(MqttClientPublishReasonCode.Success, (await Publish(anonymous, "plant/line1/m4/telemetry", LiveTestMonitor.SampleJson(DateTimeOffset.UtcNow, 0), retain: false, cancel.Token)).ReasonCode);
            await Task.Delay(500, cancel.Token);
            Assert.Equal("{\"monitor\":true}", await RetainedAlert(port, "anon-check", null, null, cancel.Token));
            Assert.DoesNotContain(retained, r => r.Payload.Contains("forged", StringComparison.Ordinal) || r.Payload.Contains("qos0", StringComparison.Ordinal));
            sub.Dispose();
            anonymous.Dispose();
        }
    }

    [Fact]
    public async Task Run_EmbeddedBrokerBeyondLoopbackWithoutUsers_ExitsWithCode2NamingUsers()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var monitor = MonitorProcess.Start(new Dictionary<string, string>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:Mqtt:Host"] = "0.0.0.0",
            ["Monitor:Mqtt:Port"] = Loopback.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
        }, RepositoryPaths.NewTempDirectory());
        Assert.Equal(2, await monitor.TerminateOnExitAsync(cancel.Token));
        Assert.Contains("Monitor:Mqtt:Users", monitor.Log, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> WithUsers() => new()
    {
        ["Monitor:Mqtt:Users:0:Username"] = "gw",
        ["Monitor:Mqtt:Users:0:Role"] = "gateway",
        ["Monitor:Mqtt:Users:0:PasswordHash"] = GatewayHash,
        ["Monitor:Mqtt:Users:1:Username"] = "view",
        ["Monitor:Mqtt:Users:1:Role"] = "viewer",
        ["Monitor:Mqtt:Users:1:PasswordHash"] = ViewerHash,
    };

    internal static async Task<(WebApplication App, int Port)> StartMonitor(Dictionary<string, string?> extra, CancellationToken cancellationToken)
    {
        int port = Loopback.FreePort();
        var settings = new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{Loopback.FreePort()}",
            ["Monitor:Mqtt:Port"] = port.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Mqtt:ClientId"] = $"tsviz-sec-{port}",
            ["Monitor:Simulator:Enabled"] = "false",
            ["Monitor:Jobs:Enabled"] = "false",
            ["Monitor:MaxGapSeconds"] = "600",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        var app = MonitorHost.Build(settings);
        await app.StartAsync(cancellationToken);
        return (app, port);
    }

    internal static int WindowLength(WebApplication app) => app.Services.GetRequiredService<LiveModel>().Metadata.WindowLength;

    internal static async Task<(IMqttClient Client, MqttClientConnectResult Result)> Connect(
        int port, string clientId, string? user, string? password, CancellationToken cancellationToken, bool cleanStart = true, MqttProtocolVersion protocol = MqttProtocolVersion.V500)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var builder = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId).WithProtocolVersion(protocol).WithCleanStart(cleanStart);
        if (!cleanStart)
        {
            builder = builder.WithSessionExpiryInterval(3600);
        }

        if (user is not null)
        {
            builder = builder.WithCredentials(user, password);
        }

        var result = await client.ConnectAsync(builder.Build(), cancellationToken);
        return (client, result);
    }

    internal static ConcurrentQueue<(string Topic, string Payload)> Collect(IMqttClient client)
    {
        var queue = new ConcurrentQueue<(string, string)>();
        client.ApplicationMessageReceivedAsync += e =>
        {
            queue.Enqueue((e.ApplicationMessage.Topic, Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload))));
            return Task.CompletedTask;
        };
        return queue;
    }

    internal static Task<MqttClientPublishResult> Publish(IMqttClient client, string topic, string payload, bool retain, CancellationToken cancellationToken)
        => client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);

    internal static async Task<MqttClientSubscribeResultCode> Subscribe(IMqttClient client, string filter, CancellationToken cancellationToken, MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtLeastOnce)
        => (await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, qos).Build(), cancellationToken)).Items.Single().ResultCode;

    internal static async Task PublishWindow(IMqttClient client, string machine, int length, CancellationToken cancellationToken)
    {
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
        for (int i = 0; i < length; i++)
        {
            var result = await Publish(client, $"plant/line1/{machine}/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i), retain: false, cancellationToken);
            Assert.Equal(MqttClientPublishReasonCode.Success, result.ReasonCode);
        }
    }

    /// <summary>The monitor's own client publishes a retained alert, as it does when an alert opens.</summary>
    private static async Task MonitorRetainsAlert(WebApplication app, CancellationToken cancellationToken)
    {
        var gateway = app.Services.GetRequiredService<MqttGateway>();
        await LiveTestMonitor.Until(() => gateway.IsConnected, cancellationToken);
        await gateway.PublishAsync("tsviz/v1/m9/alert", Encoding.UTF8.GetBytes("{\"monitor\":true}"), retain: true, cancellationToken);
    }

    /// <summary>What a fresh subscriber gets as the retained alert of m9 (null: none within 2 s).</summary>
    private static async Task<string?> RetainedAlert(int port, string clientId, string? user, string? password, CancellationToken cancellationToken)
    {
        var (client, _) = await Connect(port, clientId, user, password, cancellationToken);
        using (client)
        {
            var received = Collect(client);
            await Subscribe(client, "tsviz/v1/m9/alert", cancellationToken);
            var deadline = DateTime.UtcNow.AddSeconds(2);
            while (received.IsEmpty && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken);
            }

            return received.TryPeek(out var first) ? first.Payload : null;
        }
    }

    private static async Task<string> Metrics(WebApplication app, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(new Uri(new Uri(app.Urls.First()), "/metrics"), cancellationToken);
    }
}
