using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using TSViz.Plugins.History;
using TSViz.Plugins.Sparkplug;
using static TSViz.Tests.Shared.SparkplugJs;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// A Sparkplug B edge node whose every payload is encoded by Eclipse Tahu's JavaScript codec (npm sparkplug-payload),
/// read by the monitor on its embedded broker: births, data by alias, a sequence gap, data before a birth (a rebirth
/// request), an anomaly, a death. Windows, explanations, alerts and history follow the device.
/// </summary>
public sealed class SparkplugInputTests
{
    private const string Machine = "plant/node1/press7";

    [Fact]
    public async Task Run_EdgeNodeEncodedByAnotherImplementation_ItsDeviceIsScoredExplainedAndResetByItsDeath()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, new Dictionary<string, string?>
        {
            ["Monitor:Sparkplug:Input:Enabled"] = "true",
            ["Monitor:Sparkplug:Input:GroupIds:0"] = "plant",
            ["Monitor:Sparkplug:Input:MetricNames:temperature"] = "Temp",
        });
        await monitor.ObserveAsync("spBv1.0/plant/NCMD/#", cancel.Token);
        int length = monitor.WindowLength;
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));

        // Data from an edge node the monitor has no birth of: refused, and the node is asked for a rebirth.
        await PublishAsync(monitor, "spBv1.0/plant/DDATA/node1/press7", Payload(start, 5, Metric(null, "Double", 1.0, alias: 1, timestamp: start)), cancel.Token);
        await LiveTestMonitor.Until(() => monitor.Received.Any(r => r.Topic == "tsviz/v1/deadletter" && r.Body.GetProperty("reason").GetString() == "sparkplug_no_birth"), cancel.Token);

        await PublishAsync(monitor, "spBv1.0/plant/NBIRTH/node1", Payload(start, 0,
            Metric(SparkplugMetricNames.BdSeq, "Int64", "7", timestamp: start),
            Metric(SparkplugMetricNames.NodeControlRebirth, "Boolean", false, timestamp: start)), cancel.Token);
        await PublishAsync(monitor, "spBv1.0/plant/DBIRTH/node1/press7", Payload(start, 1,
            Metric("pressure", "Double", 5.0, alias: 1, timestamp: start),
            Metric("Temp", "Float", 60.0f, alias: 2, timestamp: start),
            Metric("torque", "Double", 12.0, alias: 3, timestamp: start),
            Metric("status", "String", "running", alias: 4, timestamp: start)), cancel.Token);

        // One DDATA per sample, by alias, every channel; seq skips once (counted, the data still used); the
        // temperature jumps by 8 degC on three samples of the third window (an anomaly the shipped model flags).
        ulong seq = 2;
        for (int i = 1; i <= length + 20; i++)
        {
            double spike = i >= length + 15 && i < length + 18 ? 8 : 0;
            var t = start.AddMilliseconds(100 * i);
            if (i == 20)
            {
                seq++; // a lost message
            }

            await PublishAsync(monitor, "spBv1.0/plant/DDATA/node1/press7", Payload(t, seq++ % 256,
                Metric(null, "Double", 5 + (0.05 * Math.Sin(i / 7.0)), alias: 1, timestamp: t),
                Metric(null, "Float", (float)(60 + (0.2 * Math.Cos(i / 11.0)) + spike), alias: 2, timestamp: t),
                Metric(null, "Double", 12 + (0.1 * Math.Sin(i / 5.0)), alias: 3, timestamp: t)), cancel.Token);
        }

        await LiveTestMonitor.Until(() => monitor.Received.Count(r => r.Topic == $"tsviz/v1/{Machine}/explanation") >= 3, cancel.Token,
            () => string.Join(", ", monitor.Received.Select(r => r.Topic).Distinct()));
        var first = monitor.Received.First(r => r.Topic == $"tsviz/v1/{Machine}/explanation").Body;
        Assert.Equal(Machine, first.GetProperty("machine").GetString());
        Assert.InRange(first.GetProperty("score").GetSingle(), 0f, 1f);
        Assert.Equal(3, first.GetProperty("saliency").GetArrayLength());
        // The first window ends on the sample of the birth plus length - 1 data samples: the birth's values are the
        // device's state at its timestamp, not a sample (sample 1 is the first DDATA).
        Assert.Equal(start.AddMilliseconds(100 * length), first.GetProperty("windowEnd").GetDateTimeOffset());

        // The anomaly opened an alert of the device, on its own retained topic.
        await LiveTestMonitor.Until(() => monitor.Received.Any(r => r.Topic == $"tsviz/v1/{Machine}/alert"), cancel.Token);
        var alert = monitor.Received.First(r => r.Topic == $"tsviz/v1/{Machine}/alert").Body;
        Assert.Equal(Machine, alert.GetProperty("machine").GetString());
        Assert.Equal("open", alert.GetProperty("status").GetString());
        Assert.Equal("temperature", alert.GetProperty("dominantChannel").GetString());

        // The rebirth request went to the node, as an NCMD the other implementation reads.
        Assert.Contains(monitor.Raw, r => r.Topic == "spBv1.0/plant/NCMD/node1");

        // The death resets the device: an insufficient_data result with the death as its cause.
        await PublishAsync(monitor, "spBv1.0/plant/DDEATH/node1/press7", Payload(start.AddMilliseconds(100 * (length + 21)), seq % 256), cancel.Token);
        await LiveTestMonitor.Until(() => monitor.On($"/{Machine}/explanation").Any(e => e.GetProperty("reasonCode").GetString() == "insufficient_data"), cancel.Token);
        var reset = monitor.On($"/{Machine}/explanation").Single(e => e.GetProperty("reasonCode").GetString() == "insufficient_data");
        Assert.Equal("sparkplug_ddeath", reset.GetProperty("cause").GetString());
        Assert.Equal(length, reset.GetProperty("samplesUntilNextWindow").GetInt32());

        string metrics = await monitor.MetricsAsync(cancel.Token);
        Assert.Equal(1, LiveTestMonitor.Metric(metrics, "tsviz_sparkplug_sequence_gaps_total"));
        Assert.Equal(1, LiveTestMonitor.Metric(metrics, "tsviz_sparkplug_rebirth_requests_total"));
        Assert.Equal(1, LiveTestMonitor.Metric(metrics, "tsviz_machine_resets_total{reason=\"sparkplug_ddeath\"}"));

        var store = monitor.App.Services.GetRequiredService<IHistoryStore>();
        Page<WindowRecord> stored = new([], null);
        await LiveTestMonitor.Until(() =>
        {
            stored = store.QueryWindowsAsync(new WindowQuery { Machine = Machine }, cancel.Token).GetAwaiter().GetResult();
            return stored.Items.Count >= 4;
        }, cancel.Token);
        Assert.Contains(stored.Items, w => w.ReasonCode == "insufficient_data");
    }

    [Fact]
    public async Task Run_RebirthRequest_IsReadableByTheOtherImplementation()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, new Dictionary<string, string?> { ["Monitor:Sparkplug:Input:Enabled"] = "true" });
        await monitor.ObserveAsync("spBv1.0/+/NCMD/#", cancel.Token);
        var now = DateTimeOffset.UtcNow;
        await PublishAsync(monitor, "spBv1.0/line2/NDATA/gw9", Payload(now, 3, Metric("pressure", "Double", 1.0, timestamp: now)), cancel.Token);
        await LiveTestMonitor.Until(() => monitor.Raw.Any(r => r.Topic == "spBv1.0/line2/NCMD/gw9"), cancel.Token);
        var decoded = Assert.Single(await DecodeAsync(monitor.Raw.First(r => r.Topic == "spBv1.0/line2/NCMD/gw9").Payload));
        var metric = decoded["metrics"]!.AsArray().Single()!.AsObject();
        Assert.Equal(SparkplugMetricNames.NodeControlRebirth, metric["name"]!.GetValue<string>());
        Assert.True(metric["value"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Run_TheBuiltInSimulatorAsAnEdgeNode_ItsDevicesAreExplainedUnderTheirSparkplugIds()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, new Dictionary<string, string?>
        {
            ["Monitor:Simulator:Enabled"] = "true",
            ["Monitor:Simulator:Sparkplug"] = "true",
            ["Monitor:Simulator:Machines"] = "2",
            ["Monitor:Simulator:RateHz"] = "50",
            ["Monitor:Sparkplug:Input:Enabled"] = "true",
        });

        await LiveTestMonitor.Until(() => monitor.Received.Any(r => r.Topic == "tsviz/v1/plant/sim/m1/explanation")
            && monitor.Received.Any(r => r.Topic == "tsviz/v1/plant/sim/m2/explanation"), cancel.Token,
            () => string.Join(", ", monitor.Received.Select(r => r.Topic).Distinct()));
        Assert.DoesNotContain(monitor.Received, r => r.Topic == "tsviz/v1/deadletter");
    }

    private static async Task PublishAsync(LiveTestMonitor monitor, string topic, JsonObject payload, CancellationToken cancellationToken)
        => await monitor.PublishAsync(topic, (await EncodeAsync(payload)).Single(), cancellationToken);
}
