using Microsoft.Extensions.Time.Testing;
using TSViz.Plugins.Sparkplug;
using static TSViz.Plugins.Tests.Sparkplug.TestSparkplug;

namespace TSViz.Plugins.Tests.Sparkplug;

public sealed class SparkplugEdgeNodeTests
{
    private static readonly SparkplugEdgeNodeSettings Settings = new()
    {
        GroupId = "tsviz",
        EdgeNodeId = "monitor1",
        ModelName = "anomaly-cnn",
        ModelVersion = "1.0.0",
        Channels = Channels,
    };

    internal static ExplanationReport Report(string machine = "m2", int window = 1, double score = 0.9) => new()
    {
        Machine = machine,
        WindowId = $"{machine}:{window}:anomaly-cnn/1.0.0",
        WindowEnd = Now.AddSeconds(window),
        Score = score,
        Anomaly = score >= 0.5,
        ReasonCode = score >= 0.5 ? "anomaly" : "normal",
        Threshold = 0.5,
        ChannelContributions = new Dictionary<string, double> { ["pressure"] = 0.1, ["temperature"] = 0.7, ["torque"] = 0.2 },
        Robustness = new RobustnessReport(0.05, score - 0.2, false),
        Alert = new AlertReport(score >= 0.5, score >= 0.5 ? $"{machine}:episode:1" : null),
    };

    internal static SparkplugPayload Payload(SparkplugMessage message)
    {
        Assert.True(SparkplugCodec.TryDecode(message.Payload.Span, out var payload, out string? error), error);
        return payload;
    }

    private static SparkplugEdgeNode Node(FakeTimeProvider? time = null, SparkplugEdgeNodeSettings? settings = null)
        => new(settings ?? Settings, time ?? new FakeTimeProvider(Now));

    private static SparkplugEdgeNode Online(FakeTimeProvider? time = null)
    {
        var node = Node(time);
        node.Connect();
        node.Birth();
        return node;
    }

    private static SparkplugMetric Metric(SparkplugPayload payload, string name) => Assert.Single(payload.Metrics, m => m.Name == name);

    [Fact]
    public void Connect_FirstSession_IsTheNDeathWillWithBdSeq0AtQos1AndNoSeq()
    {
        var will = Node().Connect();
        var payload = Payload(will);

        Assert.Equal("spBv1.0/tsviz/NDEATH/monitor1", will.TopicName);
        Assert.Equal(1, will.QualityOfService);
        Assert.False(will.Retain);
        Assert.Null(payload.Seq);
        var bdSeq = Assert.Single(payload.Metrics);
        Assert.Equal(SparkplugMetricNames.BdSeq, bdSeq.Name);
        Assert.Equal(SparkplugDataType.Int64, bdSeq.DataType);
        Assert.True(bdSeq.TryGetInt64(out long value) && value == 0);
    }

    [Fact]
    public void Connect_EachNewSession_BdSeqOneMoreWrapping255To0()
    {
        var node = Node(settings: Settings with { InitialBdSeq = 254 });
        Assert.Equal([254L, 255L, 0L, 1L], Enumerable.Range(0, 4).Select(_ =>
        {
            Metric(Payload(node.Connect()), SparkplugMetricNames.BdSeq).TryGetInt64(out long bdSeq);
            return bdSeq;
        }));
        Assert.Equal(1, node.BdSeq);
    }

    [Fact]
    public void Birth_AfterConnect_NBirthWithSeq0TheSameBdSeqRebirthFalseAndTheModel()
    {
        var node = Node();
        node.Connect();
        node.Connect();
        var birth = Assert.Single(node.Birth());
        var payload = Payload(birth);

        Assert.Equal("spBv1.0/tsviz/NBIRTH/monitor1", birth.TopicName);
        Assert.Equal(0, birth.QualityOfService);
        Assert.Equal(0UL, payload.Seq);
        Assert.Equal(Now, payload.Timestamp);
        Assert.True(Metric(payload, SparkplugMetricNames.BdSeq).TryGetInt64(out long bdSeq) && bdSeq == 1);
        var rebirth = Metric(payload, SparkplugMetricNames.NodeControlRebirth);
        Assert.Null(rebirth.Alias);
        Assert.True(rebirth.TryGetBoolean(out bool value) && !value);
        Assert.True(Metric(payload, SparkplugEdgeNodeMetrics.ModelName).TryGetString(out string? model) && model == "anomaly-cnn");
        Assert.True(Metric(payload, SparkplugEdgeNodeMetrics.ModelVersion).TryGetString(out string? version) && version == "1.0.0");
        Assert.True(Metric(payload, SparkplugEdgeNodeMetrics.Channels).TryGetString(out string? channels) && channels == "pressure,temperature,torque");
    }

    [Fact]
    public void Birth_WithoutASession_Throws()
    {
        var node = Node();
        Assert.Throws<InvalidOperationException>(() => node.Birth());
        node.Connect();
        node.Death();
        Assert.Throws<InvalidOperationException>(() => node.Birth());
        Assert.Throws<InvalidOperationException>(() => node.Death());
    }

    [Fact]
    public void Publish_NewMachine_DBirthOfEveryMetricWithNameAliasDatatypeAndTheWindowsTime()
    {
        var node = Online();
        var message = Assert.Single(node.Publish(Report()));
        var payload = Payload(message);

        Assert.Equal("spBv1.0/tsviz/DBIRTH/monitor1/m2", message.TopicName);
        Assert.Equal(1UL, payload.Seq);
        Assert.Equal(
            ["Window/Id", "Window/End", "Score", "Threshold", "Decision/Anomaly", "Decision/Reason", "Contribution/pressure", "Contribution/temperature",
             "Contribution/torque", "Robustness/Epsilon", "Robustness/Score After", "Robustness/Flipped", "Alert/Open", "Alert/Id"],
            payload.Metrics.Select(m => m.Name));
        Assert.Equal(payload.Metrics.Count, payload.Metrics.Select(m => m.Alias).Distinct().Count());
        Assert.All(payload.Metrics, m => Assert.Equal(Now.AddSeconds(1), m.Timestamp));
        Assert.True(Metric(payload, "Score").TryGetDouble(out double score) && score == 0.9);
        Assert.Equal(SparkplugDataType.Double, Metric(payload, "Score").DataType);
        Assert.True(Metric(payload, "Decision/Anomaly").TryGetBoolean(out bool anomaly) && anomaly);
        Assert.True(Metric(payload, "Contribution/temperature").TryGetDouble(out double share) && share == 0.7);
        Assert.True(Metric(payload, "Window/End").TryGetDateTime(out var end) && end == Now.AddSeconds(1));
        Assert.True(Metric(payload, "Alert/Id").TryGetString(out string? alert) && alert == "m2:episode:1");
        Assert.True(Metric(payload, "Robustness/Score After").TryGetDouble(out double after) && Math.Abs(after - 0.7) < 1e-12);
    }

    [Fact]
    public void Publish_SameMachineAgain_DDataOfTheChangedMetricsByAliasOnly()
    {
        var node = Online();
        var birth = Payload(Assert.Single(node.Publish(Report(score: 0.9))));
        var aliases = birth.Metrics.ToDictionary(m => m.Name!, m => m.Alias);

        var next = Report(window: 2, score: 0.9) with { ChannelContributions = new Dictionary<string, double> { ["pressure"] = 0.1, ["temperature"] = 0.6, ["torque"] = 0.3 } };
        var message = Assert.Single(node.Publish(next));
        var payload = Payload(message);

        Assert.Equal("spBv1.0/tsviz/DDATA/monitor1/m2", message.TopicName);
        Assert.Equal(2UL, payload.Seq);
        Assert.All(payload.Metrics, m => Assert.Null(m.Name));
        Assert.All(payload.Metrics, m => Assert.NotNull(m.DataType));
        Assert.All(payload.Metrics, m => Assert.Equal(Now.AddSeconds(2), m.Timestamp));
        Assert.Equal([aliases["Window/Id"], aliases["Window/End"], aliases["Contribution/temperature"], aliases["Contribution/torque"]], payload.Metrics.Select(m => m.Alias));
    }

    [Fact]
    public void Publish_NothingChanged_ReturnsNothing()
    {
        var node = Online();
        node.Publish(Report());
        Assert.Empty(node.Publish(Report()));
    }

    [Fact]
    public void Publish_MissingValues_AreNull()
    {
        var node = Online();
        var report = Report() with { Robustness = null, Alert = AlertReport.None, ChannelContributions = new Dictionary<string, double> { ["pressure"] = 1 } };
        var payload = Payload(Assert.Single(node.Publish(report)));

        foreach (string name in (string[])["Robustness/Epsilon", "Robustness/Score After", "Robustness/Flipped", "Alert/Id", "Contribution/torque"])
        {
            var metric = Metric(payload, name);
            Assert.True(metric.IsNull, name);
            Assert.NotNull(metric.DataType);
        }
    }

    [Fact]
    public void Publish_ContributionOfAnUnknownChannel_Throws()
    {
        var report = Report() with { ChannelContributions = new Dictionary<string, double> { ["vibration"] = 1 } };
        Assert.Throws<ArgumentException>(() => Online().Publish(report));
    }

    [Fact]
    public void Publish_SeveralMachines_AliasesUniqueAcrossTheEdgeNode()
    {
        var node = Online();
        var first = Payload(Assert.Single(node.Publish(Report("m1"))));
        var second = Payload(Assert.Single(node.Publish(Report("m2"))));
        Assert.Empty(first.Metrics.Select(m => m.Alias).Intersect(second.Metrics.Select(m => m.Alias)));
    }

    [Fact]
    public void Publish_MachineIdWithSlashes_IsAnEscapedDeviceId()
    {
        var message = Assert.Single(Online().Publish(Report(DeviceMachine)));
        Assert.Equal("spBv1.0/tsviz/DBIRTH/monitor1/line1%2Fgw1%2Fpress7", message.TopicName);
    }

    [Fact]
    public void Publish_BeforeBirth_KeepsTheValuesForTheBirth()
    {
        var node = Node();
        Assert.Empty(node.Publish(Report("m1")));
        node.Connect();
        Assert.Empty(node.Publish(Report("m2")));
        var births = node.Birth();

        Assert.Equal(["spBv1.0/tsviz/NBIRTH/monitor1", "spBv1.0/tsviz/DBIRTH/monitor1/m1", "spBv1.0/tsviz/DBIRTH/monitor1/m2"], births.Select(m => m.TopicName));
        Assert.Equal([0UL, 1UL, 2UL], births.Select(m => Payload(m).Seq));
    }

    [Fact]
    public void Publish_Seq_WrapsFrom255To0()
    {
        var node = Online();
        var seqs = Enumerable.Range(1, 300).Select(i => Payload(Assert.Single(node.Publish(Report(window: i)))).Seq!.Value).ToList();
        Assert.Equal(Enumerable.Range(1, 300).Select(i => (ulong)(i % 256)), seqs);
    }

    [Fact]
    public void Retire_KnownMachine_DDeathWithTheNextSeq()
    {
        var node = Online();
        node.Publish(Report("m1"));
        var death = node.Retire("m1");

        Assert.NotNull(death);
        Assert.Equal("spBv1.0/tsviz/DDEATH/monitor1/m1", death.TopicName);
        Assert.Equal(2UL, Payload(death).Seq);
        Assert.Null(node.Retire("m1"));
        Assert.Single(node.Publish(Report("m1")), m => m.Topic.MessageType == SparkplugMessageType.DBirth);
    }

    [Fact]
    public void HandleCommand_RebirthRequest_TheBirthsAgainWithTheLastValuesSameBdSeqSeqFrom0()
    {
        var time = new FakeTimeProvider(Now);
        var node = Online(time);
        node.Publish(Report("m1", window: 1));
        node.Publish(Report("m1", window: 2, score: 0.1));
        time.Advance(TimeSpan.FromMinutes(1));

        var request = SparkplugRebirth.Request("tsviz", "monitor1", time.GetUtcNow());
        var births = node.HandleCommand(request.TopicName, request.Payload.Span);

        Assert.Equal(["spBv1.0/tsviz/NBIRTH/monitor1", "spBv1.0/tsviz/DBIRTH/monitor1/m1"], births.Select(m => m.TopicName));
        var nodeBirth = Payload(births[0]);
        Assert.Equal(0UL, nodeBirth.Seq);
        Assert.True(Metric(nodeBirth, SparkplugMetricNames.BdSeq).TryGetInt64(out long bdSeq) && bdSeq == 0);
        var deviceBirth = Payload(births[1]);
        Assert.Equal(1UL, deviceBirth.Seq);
        Assert.True(Metric(deviceBirth, "Score").TryGetDouble(out double score) && score == 0.1);

        // Each metric keeps the time it took its value: the threshold never changed, the score did.
        Assert.Equal(Now.AddSeconds(1), Metric(deviceBirth, "Threshold").Timestamp);
        Assert.Equal(Now.AddSeconds(2), Metric(deviceBirth, "Score").Timestamp);
    }

    [Fact]
    public void HandleCommand_NotARebirthRequestForThisNode_ReturnsNothing()
    {
        var node = Online();
        var other = SparkplugRebirth.Request("tsviz", "monitor2", Now);
        var no = new SparkplugPayload { Timestamp = Now, Metrics = [SparkplugMetric.Boolean(SparkplugMetricNames.NodeControlRebirth, false)] };

        Assert.Empty(node.HandleCommand(other.TopicName, other.Payload.Span));
        Assert.Empty(node.HandleCommand("spBv1.0/tsviz/NCMD/monitor1", SparkplugCodec.Encode(no)));
        Assert.Empty(node.HandleCommand("spBv1.0/tsviz/NCMD/monitor1", [0xFF]));
        Assert.Empty(node.HandleCommand("spBv1.0/tsviz/DCMD/monitor1/m1", SparkplugRebirth.Request("tsviz", "monitor1", Now).Payload.Span));
        Assert.Equal("spBv1.0/tsviz/NCMD/monitor1", node.CommandTopic.ToString());
    }

    [Fact]
    public void Death_EndsTheSession_NDeathWithItsBdSeqAndNothingPublishedUntilTheNextBirth()
    {
        var node = Online();
        node.Publish(Report("m1"));
        var death = node.Death();
        var payload = Payload(death);

        Assert.Equal("spBv1.0/tsviz/NDEATH/monitor1", death.TopicName);
        Assert.Null(payload.Seq);
        Assert.True(Metric(payload, SparkplugMetricNames.BdSeq).TryGetInt64(out long bdSeq) && bdSeq == 0);
        Assert.Empty(node.Publish(Report("m1", window: 2)));
        var request = SparkplugRebirth.Request("tsviz", "monitor1", Now);
        Assert.Empty(node.HandleCommand(request.TopicName, request.Payload.Span));
    }

    [Fact]
    public async Task Publish_FromSeveralThreads_SeqsAreConsecutive()
    {
        var node = Online();
        var tasks = Enumerable.Range(0, 4).Select(t => Task.Run(() => Enumerable.Range(1, 50)
            .SelectMany(i => node.Publish(Report($"m{t}", window: i))).ToList())).ToList();
        var messages = (await Task.WhenAll(tasks)).SelectMany(m => m).ToList();

        Assert.Equal(200, messages.Count);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (ulong)(i % 256)), messages.Select(m => Payload(m).Seq!.Value).Order());
    }

    [Fact]
    public void Constructor_BadIds_NameTheSettings()
    {
        var ex = Assert.Throws<ArgumentException>(() => Node(settings: Settings with { EdgeNodeId = "a/b" }));
        Assert.Contains("EdgeNodeId", ex.Message, StringComparison.Ordinal);
    }
}
