using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using TSViz.Plugins.Sparkplug;
using TSViz.Tests.Shared;
using static TSViz.Tests.Shared.SparkplugJs;
using static TSViz.Plugins.Tests.Sparkplug.TestSparkplug;

namespace TSViz.Plugins.Tests.Sparkplug;

/// <summary>
/// Every kind of message <see cref="SparkplugEdgeNode"/> produces, over one whole session, read by Eclipse Tahu's
/// JavaScript codec (sparkplug-payload 1.0.3): each field as this repository wrote it, and the values the monitor meant.
/// </summary>
public sealed class SparkplugEdgeNodeInteropTests
{
    private static readonly SparkplugEdgeNodeSettings Settings = new()
    {
        GroupId = "tsviz",
        EdgeNodeId = "monitor1",
        ModelName = "anomaly-cnn",
        ModelVersion = "1.0.0",
        Channels = Channels,
    };

    [Fact]
    public async Task EveryMessageOfASession_TahuReadsWhatWasWritten()
    {
        var time = new FakeTimeProvider(Now);
        var node = new SparkplugEdgeNode(Settings, time);
        var messages = new List<SparkplugMessage> { node.Connect() };
        messages.AddRange(node.Birth());
        messages.AddRange(node.Publish(SparkplugEdgeNodeTests.Report("m1", window: 1, score: 0.9)));
        time.Advance(TimeSpan.FromSeconds(1));
        messages.AddRange(node.Publish(SparkplugEdgeNodeTests.Report("m1", window: 2, score: 0.1)));
        messages.AddRange(node.Publish(SparkplugEdgeNodeTests.Report(DeviceMachine, window: 3) with { Robustness = null, Alert = AlertReport.None }));
        messages.Add(node.Retire("m1")!);
        var request = SparkplugRebirth.Request(Settings.GroupId, Settings.EdgeNodeId, time.GetUtcNow());
        messages.AddRange(node.HandleCommand(request.TopicName, request.Payload.Span));
        messages.Add(node.Death());

        Assert.Equal(
            ["NDEATH/monitor1", "NBIRTH/monitor1", "DBIRTH/monitor1/m1", "DDATA/monitor1/m1", "DBIRTH/monitor1/line1%2Fgw1%2Fpress7", "DDEATH/monitor1/m1",
             "NBIRTH/monitor1", "DBIRTH/monitor1/line1%2Fgw1%2Fpress7", "NDEATH/monitor1"],
            messages.Select(m => m.TopicName["spBv1.0/tsviz/".Length..]));

        var theirs = await SparkplugJs.DecodeAsync([.. messages.Select(m => m.Payload)]);
        for (int i = 0; i < messages.Count; i++)
        {
            AssertTahuReadsTheSame(SparkplugEdgeNodeTests.Payload(messages[i]), theirs[i], messages[i].TopicName);
        }

        // What the monitor meant, as Tahu reads it.
        Assert.Equal([null, "0", "1", "2", "3", "4", "0", "1", null], theirs.Select(p => p["seq"]?.GetValue<string>()));
        Assert.All(new[] { theirs[0], theirs[1], theirs[6], theirs[8] }, p => Assert.Equal("0", Value(p, SparkplugMetricNames.BdSeq)!.GetValue<string>()));
        Assert.False(Value(theirs[1], SparkplugMetricNames.NodeControlRebirth)!.GetValue<bool>());
        Assert.Equal("anomaly-cnn", Value(theirs[1], SparkplugEdgeNodeMetrics.ModelName)!.GetValue<string>());
        Assert.Equal(0.9, Value(theirs[2], SparkplugEdgeNodeMetrics.Score)!.GetValue<double>());
        Assert.True(Value(theirs[2], SparkplugEdgeNodeMetrics.Anomaly)!.GetValue<bool>());
        Assert.Equal(0.7, Value(theirs[2], SparkplugEdgeNodeMetrics.Contribution("temperature"))!.GetValue<double>());
        Assert.Equal("m1:episode:1", Value(theirs[2], SparkplugEdgeNodeMetrics.AlertId)!.GetValue<string>());
        Assert.Equal(Milliseconds(Now.AddSeconds(1)), Value(theirs[2], SparkplugEdgeNodeMetrics.WindowEnd)!.GetValue<string>());

        // The DDATA names its metrics by the DBIRTH's aliases: score, decision and alert changed.
        var aliases = theirs[2]["metrics"]!.AsArray().ToDictionary(m => m!["alias"]!.GetValue<string>(), m => m!["name"]!.GetValue<string>());
        var changed = theirs[3]["metrics"]!.AsArray().ToDictionary(m => aliases[m!["alias"]!.GetValue<string>()], m => m!["value"]);
        Assert.Equal(0.1, changed[SparkplugEdgeNodeMetrics.Score]!.GetValue<double>());
        Assert.False(changed[SparkplugEdgeNodeMetrics.Anomaly]!.GetValue<bool>());
        Assert.Equal("normal", changed[SparkplugEdgeNodeMetrics.Reason]!.GetValue<string>());
        Assert.Null(changed[SparkplugEdgeNodeMetrics.AlertId]);
        Assert.DoesNotContain(SparkplugEdgeNodeMetrics.Threshold, changed.Keys);

        Assert.Null(Value(theirs[4], SparkplugEdgeNodeMetrics.RobustnessScoreAfter));
        Assert.Equal("Double", Metric(theirs[4], SparkplugEdgeNodeMetrics.RobustnessScoreAfter)["type"]!.GetValue<string>());
    }

    private static JsonNode Metric(JsonObject payload, string name)
        => Assert.Single(payload["metrics"]!.AsArray(), m => m!["name"]?.GetValue<string>() == name)!;

    private static JsonNode? Value(JsonObject payload, string name) => Metric(payload, name)["value"];

    /// <summary>Each field of <paramref name="ours"/> (as this repository reads its own bytes) is what Tahu read.</summary>
    private static void AssertTahuReadsTheSame(SparkplugPayload ours, JsonObject theirs, string topic)
    {
        Assert.Equal(ours.Timestamp is { } sent ? Milliseconds(sent) : null, theirs["timestamp"]?.GetValue<string>());
        Assert.Equal(ours.Seq?.ToString(CultureInfo.InvariantCulture), theirs["seq"]?.GetValue<string>());
        var metrics = theirs["metrics"]?.AsArray() ?? [];
        Assert.True(ours.Metrics.Count == metrics.Count, $"{topic}: {ours.Metrics.Count} metrics written, {metrics.Count} read");
        for (int i = 0; i < metrics.Count; i++)
        {
            var metric = ours.Metrics[i];
            var their = metrics[i]!;
            string what = $"{topic}, metric #{i} ({metric.Name ?? metric.Alias?.ToString(CultureInfo.InvariantCulture)})";
            Assert.True(metric.Name == their["name"]?.GetValue<string>(), $"{what}: name");
            Assert.True(metric.Alias?.ToString(CultureInfo.InvariantCulture) == their["alias"]?.GetValue<string>(), $"{what}: alias");
            Assert.True((metric.Timestamp is { } t ? Milliseconds(t) : null) == their["timestamp"]?.GetValue<string>(), $"{what}: timestamp");
            Assert.True(metric.DataType.ToString() == their["type"]?.GetValue<string>(), $"{what}: datatype {metric.DataType} read as {their["type"]}");
            AssertValue(metric, their["value"], what);
        }
    }

    /// <summary>The value Tahu read is the one written (64-bit integers and times come as decimal strings).</summary>
    private static void AssertValue(SparkplugMetric metric, JsonNode? their, string what)
    {
        if (metric.IsNull)
        {
            Assert.True(their is null, $"{what}: null written, {their?.ToJsonString()} read");
            return;
        }

        Assert.True(their is not null, $"{what}: a value written, null read");
        bool same = metric.DataType switch
        {
            SparkplugDataType.Double or SparkplugDataType.Float => metric.TryGetDouble(out double number) && number == their.GetValue<double>(),
            SparkplugDataType.Boolean => metric.TryGetBoolean(out bool flag) && flag == their.GetValue<bool>(),
            SparkplugDataType.String => metric.TryGetString(out string? text) && text == their.GetValue<string>(),
            SparkplugDataType.DateTime => metric.TryGetDateTime(out var time) && Milliseconds(time) == their.GetValue<string>(),
            SparkplugDataType.Int64 => metric.TryGetInt64(out long integer) && integer.ToString(CultureInfo.InvariantCulture) == their.GetValue<string>(),
            _ => throw new InvalidOperationException($"{what}: the edge node wrote {metric.DataType}, which this check does not compare yet."),
        };
        Assert.True(same, $"{what}: {metric.Value} written, {their.ToJsonString()} read");
    }
}
