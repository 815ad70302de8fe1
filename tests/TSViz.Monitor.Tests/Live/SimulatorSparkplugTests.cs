using System.Globalization;
using System.Text.Json.Nodes;
using TSViz.Monitor.Tests.Cli;
using TSViz.Plugins.Sparkplug;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>`simulate --sparkplug` against the embedded broker of a monitor, its messages decoded with Eclipse Tahu's codec.</summary>
public sealed class SimulatorSparkplugTests
{
    [Fact]
    public async Task Simulate_Sparkplug_PublishesBirthsDataRebirthAndDeathThatTahuDecodes()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token);
        await using var sparkplug = await SparkplugObserver.StartAsync(monitor.MqttPort, cancel.Token);
        var run = VerbRunner.Run("simulate", "--host", "127.0.0.1", "--port", monitor.MqttPort.ToString(CultureInfo.InvariantCulture),
            "--sparkplug", "--group", "plant", "--machines", "2", "--rate", "20", "--anomaly-every", "0", "--duration", "5");

        await sparkplug.UntilAsync(m => m.Topic == "spBv1.0/plant/DDATA/sim/m2", 3, cancel.Token);
        await sparkplug.RebirthAsync("spBv1.0/plant/NCMD/sim", cancel.Token);
        await sparkplug.UntilAsync(m => m.Topic == "spBv1.0/plant/NBIRTH/sim", 2, cancel.Token);
        var (exit, _, error) = await run;
        Assert.True(exit == 0, error);

        var messages = sparkplug.Messages.ToList();
        Assert.Equal("spBv1.0/plant/NBIRTH/sim", messages[0].Topic);
        Assert.Equal(["spBv1.0/plant/DBIRTH/sim/m1", "spBv1.0/plant/DBIRTH/sim/m2"], messages.Skip(1).Take(2).Select(m => m.Topic));
        Assert.Equal("spBv1.0/plant/NDEATH/sim", messages[^1].Topic); // the clean end
        var ours = messages.Where(m => !m.Topic.Contains("/NCMD/", StringComparison.Ordinal)).ToList();
        var decoded = await SparkplugJs.DecodeAsync([.. ours.Select(m => (ReadOnlyMemory<byte>)m.Payload)]);

        var nbirth = decoded[0];
        Assert.Equal("0", Text(nbirth["seq"]));
        Assert.Equal("0", Text(Named(nbirth, SparkplugMetricNames.BdSeq)!["value"]));
        Assert.Equal("false", Text(Named(nbirth, SparkplugMetricNames.NodeControlRebirth)!["value"]));
        foreach (var dbirth in decoded.Skip(1).Take(2))
        {
            Assert.Equal(["pressure", "temperature", "torque"], Metrics(dbirth).Select(m => Text(m["name"])));
            Assert.All(Metrics(dbirth), m => Assert.Equal("Double", Text(m["type"])));
        }

        // Every message after a birth numbers on (seq 1..255, 0 ...) until the next NBIRTH starts again at 0.
        long previous = -1;
        for (int i = 0; i < ours.Count - 1; i++)
        {
            long seq = long.Parse(Text(decoded[i]["seq"])!, CultureInfo.InvariantCulture);
            Assert.Equal(ours[i].Topic.Contains("/NBIRTH/", StringComparison.Ordinal) ? 0 : (previous + 1) % 256, seq);
            previous = seq;
        }

        // DDATA: the three Double metrics, each stamped with the sample's time.
        var data = decoded.Where((_, i) => ours[i].Topic.Contains("/DDATA/", StringComparison.Ordinal)).ToList();
        Assert.True(data.Count >= 6);
        Assert.All(data, d =>
        {
            Assert.Equal(["pressure", "temperature", "torque"], Metrics(d).Select(m => Text(m["name"])));
            Assert.All(Metrics(d), m => Assert.Equal(Text(d["timestamp"]), Text(m["timestamp"])));
            Assert.All(Metrics(d), m => Assert.True(double.IsFinite(m["value"]!.GetValue<double>())));
        });
        Assert.Equal("0", Text(Named(decoded[^1], SparkplugMetricNames.BdSeq)!["value"]));
    }

    private static List<JsonObject> Metrics(JsonObject payload) => [.. payload["metrics"]!.AsArray().Select(m => m!.AsObject())];

    private static JsonObject? Named(JsonObject payload, string name) => Metrics(payload).FirstOrDefault(m => Text(m["name"]) == name);

    private static string? Text(JsonNode? node) => node?.ToString();
}
