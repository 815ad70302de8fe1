using System.Globalization;
using Microsoft.AspNetCore.Builder;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Monitor.Live;
using TSViz.Monitor.Tests.Live;
using TSViz.Tests.Shared;
using Xunit.Abstractions;
using static TSViz.Monitor.Tests.MqttSecurity.BrokerSecurityTests;

namespace TSViz.Monitor.Tests.MqttSecurity;

/// <summary>
/// A real Mosquitto with the shipped authenticated plant set-up (plant.conf + plant-auth.conf + tsviz.acl, password
/// file from mosquitto_passwd), and the simulator's rule with an external broker.
/// </summary>
public sealed class PlantBrokerSecurityTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Passwords = new()
    {
        ["tsviz-monitor"] = "monitor-secret-1",
        ["gateway-line1"] = "gateway-secret-1",
        ["viewer"] = "viewer-secret-1",
    };

    [Fact]
    public async Task PlantMosquitto_ShippedAcl_MonitorWorksEndToEndAndNoOtherRoleCrossesItsLane()
    {
        await using var broker = await MosquittoBroker.StartAuthenticatedAsync(Passwords);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var app = ExternalMonitor(broker.Port, new()
        {
            ["Monitor:Mqtt:Username"] = "tsviz-monitor",
            ["Monitor:Mqtt:Password"] = Passwords["tsviz-monitor"],
            ["Monitor:Simulator:Enabled"] = "false",
        });
        await app.StartAsync(cancel.Token);

        var (anonymous, anonymousResult) = await Connect(broker.Port, "anon-p", null, null, cancel.Token);
        Assert.NotEqual(MqttClientConnectResultCode.Success, anonymousResult.ResultCode);
        anonymous.Dispose();

        var (viewer, viewerResult) = await Connect(broker.Port, "viewer-p", "viewer", Passwords["viewer"], cancel.Token);
        Assert.Equal(MqttClientConnectResultCode.Success, viewerResult.ResultCode);
        var seen = Collect(viewer);
        await Subscribe(viewer, "tsviz/v1/#", cancel.Token);
        // The monitor's user may read telemetry: it shows what reached the broker from whom.
        var (tap, _) = await Connect(broker.Port, "tap-p", "tsviz-monitor", Passwords["tsviz-monitor"], cancel.Token);
        var telemetry = Collect(tap);
        await Subscribe(tap, "plant/#", cancel.Token);

        var (gateway, gatewayResult) = await Connect(broker.Port, "gateway-p", "gateway-line1", Passwords["gateway-line1"], cancel.Token);
        Assert.Equal(MqttClientConnectResultCode.Success, gatewayResult.ResultCode);
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
        for (int i = 0; i < WindowLength(app); i++)
        {
            await Publish(gateway, "plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i), retain: false, cancel.Token);
        }

        await LiveTestMonitor.Until(() => seen.Any(r => r.Topic == "tsviz/v1/line1/m1/explanation"), cancel.Token, () => $"{seen.Count} received; broker log: {broker.Log}");

        var forged = await Publish(gateway, "tsviz/v1/m1/alert", "{\"forged\":true}", retain: true, cancel.Token);
        var viewerTelemetry = await Publish(viewer, "plant/line1/m7/telemetry", LiveTestMonitor.SampleJson(DateTimeOffset.UtcNow, 0), retain: false, cancel.Token);
        output.WriteLine($"Mosquitto's PUBACK: gateway on tsviz/v1/m1/alert {forged.ReasonCode}, viewer on telemetry {viewerTelemetry.ReasonCode}");
        await Task.Delay(2000, cancel.Token);
        Assert.DoesNotContain(seen, r => r.Payload.Contains("forged", StringComparison.Ordinal));
        Assert.DoesNotContain(telemetry, r => r.Topic.Contains("/m7/", StringComparison.Ordinal));
        Assert.Contains(telemetry, r => r.Topic == "plant/line1/m1/telemetry"); // the tap works: m7's absence means refused
        viewer.Dispose();
        tap.Dispose();
        gateway.Dispose();
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task Run_ExternalBroker_SimulatorPublishesOnlyWhenAllowed(bool publishToExternalBroker, bool expectTelemetry)
    {
        await using var broker = await MosquittoBroker.StartAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (watcher, _) = await Connect(broker.Port, "plant-watcher", null, null, cancel.Token);
        var arrived = Collect(watcher);
        await Subscribe(watcher, "plant/#", cancel.Token);
        await using var app = ExternalMonitor(broker.Port, new()
        {
            ["Monitor:Simulator:Enabled"] = "true", // the default
            ["Monitor:Simulator:RateHz"] = "20",
            ["Monitor:Simulator:PublishToExternalBroker"] = publishToExternalBroker ? "true" : "false",
        });
        await app.StartAsync(cancel.Token);
        await Task.Delay(4000, cancel.Token);
        output.WriteLine($"{arrived.Count} messages on plant/# in 4 s");
        Assert.Equal(expectTelemetry, !arrived.IsEmpty);
        watcher.Dispose();
    }

    private static WebApplication ExternalMonitor(int brokerPort, Dictionary<string, string?> extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Monitor:Mqtt:ClientId"] = $"tsviz-plant-{brokerPort}",
            ["Monitor:Jobs:Enabled"] = "false",
            ["Monitor:MaxGapSeconds"] = "600",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return Live.MosquittoIntegrationTests.Monitor(brokerPort, settings);
    }
}
