using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using MQTTnet;
using MQTTnet.Protocol;
using Microsoft.Extensions.DependencyInjection;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Sparkplug;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// The monitor as a Sparkplug B edge node on its embedded broker, read by a second session and decoded with Eclipse
/// Tahu's JavaScript codec (npm sparkplug-payload), the independent implementation.
/// </summary>
public sealed class SparkplugOutputTests
{
    private const int Hop = 10;

    [Fact]
    public async Task Output_WindowsOfAJsonStream_BirthsAndDataCarryTheExplanationsScores()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, Enabled());
        await using var sparkplug = await SparkplugObserver.StartAsync(monitor.MqttPort, cancel.Token);
        string node = $"tsviz-test-{monitor.MqttPort}";

        // The first NBIRTH went out before this session subscribed: ask for the births again.
        await sparkplug.RebirthAsync($"spBv1.0/tsviz/NCMD/{node}", cancel.Token);
        await sparkplug.UntilAsync(m => m.Topic == $"spBv1.0/tsviz/NBIRTH/{node}", 1, cancel.Token);

        int length = monitor.WindowLength;
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
        for (int i = 0; i < length + Hop; i++)
        {
            await monitor.PublishAsync("plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i), cancel.Token);
        }

        string device = $"{node}/line1%2Fm1";
        await sparkplug.UntilAsync(m => m.Topic == $"spBv1.0/tsviz/DDATA/{device}", 1, cancel.Token);
        await LiveTestMonitor.Until(() => monitor.On("/m1/explanation").Count >= 2, cancel.Token);
        var explanations = monitor.On("/m1/explanation");

        var nbirth = (await SparkplugJs.DecodeAsync(sparkplug.Payload($"spBv1.0/tsviz/NBIRTH/{node}")))[0];
        var dbirth = (await SparkplugJs.DecodeAsync(sparkplug.Payload($"spBv1.0/tsviz/DBIRTH/{device}")))[0];
        var ddata = (await SparkplugJs.DecodeAsync(sparkplug.Payload($"spBv1.0/tsviz/DDATA/{device}")))[0];
        Assert.Equal("0", Text(nbirth["seq"]));
        Assert.NotNull(Named(nbirth, SparkplugMetricNames.BdSeq));
        Assert.Equal("false", Text(Named(nbirth, SparkplugMetricNames.NodeControlRebirth)!["value"]));

        var score = Named(dbirth, SparkplugEdgeNodeMetrics.Score)!;
        Assert.Equal("Double", Text(score["type"]));
        Assert.Equal((float)explanations[0].GetProperty("score").GetDouble(), (float)score["value"]!.GetValue<double>());
        Assert.Equal(explanations[0].GetProperty("id").GetString(), Text(Named(dbirth, SparkplugEdgeNodeMetrics.WindowId)!["value"]));

        // DDATA by alias: the second window's score (left out only when it did not change).
        var changed = ddata["metrics"]!.AsArray().Select(m => m!.AsObject()).ToList();
        var scoreData = changed.SingleOrDefault(m => Text(m["alias"]) == Text(score["alias"]));
        float second = (float)explanations[1].GetProperty("score").GetDouble();
        Assert.Equal(second, scoreData is null ? (float)score["value"]!.GetValue<double>() : (float)scoreData["value"]!.GetValue<double>());
        var windowId = changed.Single(m => Text(m["alias"]) == Text(Named(dbirth, SparkplugEdgeNodeMetrics.WindowId)!["alias"]));
        Assert.Equal(explanations[1].GetProperty("id").GetString(), Text(windowId["value"]));
    }

    [Fact]
    public async Task Command_Rebirth_SendsTheNodeAndDeviceBirthsAgain()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, Enabled());
        await using var sparkplug = await SparkplugObserver.StartAsync(monitor.MqttPort, cancel.Token);
        string node = $"tsviz-test-{monitor.MqttPort}";
        int length = monitor.WindowLength;
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
        for (int i = 0; i < length; i++)
        {
            await monitor.PublishAsync("plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i), cancel.Token);
        }

        string dbirth = $"spBv1.0/tsviz/DBIRTH/{node}/line1%2Fm1";
        await sparkplug.UntilAsync(m => m.Topic == dbirth, 1, cancel.Token);

        await sparkplug.RebirthAsync($"spBv1.0/tsviz/NCMD/{node}", cancel.Token);
        await sparkplug.UntilAsync(m => m.Topic == dbirth, 2, cancel.Token);
        var births = sparkplug.Messages.Where(m => m.Topic.Contains("BIRTH", StringComparison.Ordinal)).ToList();
        Assert.Equal($"spBv1.0/tsviz/NBIRTH/{node}", births[^2].Topic); // the NBIRTH, then the machine's DBIRTH
        Assert.Equal(dbirth, births[^1].Topic);
        var decoded = await SparkplugJs.DecodeAsync(births[^2].Payload, births[^1].Payload);
        Assert.Equal("0", Text(decoded[0]["seq"]));
        Assert.Equal("1", Text(decoded[1]["seq"]));
        Assert.NotNull(Named(decoded[1], SparkplugEdgeNodeMetrics.Score));
    }

    [Fact]
    public async Task Connection_Reconnected_RebirthsWithTheNextBdSeqAndItsWillIsThatSessionsNodeDeath()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var capture = new ClientCapture();
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, Enabled(), s => s.AddSingleton<IMqttSessionParticipant>(capture));
        await using var sparkplug = await SparkplugObserver.StartAsync(monitor.MqttPort, cancel.Token);
        string node = $"tsviz-test-{monitor.MqttPort}";
        string nbirth = $"spBv1.0/tsviz/NBIRTH/{node}";
        await sparkplug.RebirthAsync($"spBv1.0/tsviz/NCMD/{node}", cancel.Token);
        await sparkplug.UntilAsync(m => m.Topic == nbirth, 1, cancel.Token);
        long bdSeq = BdSeq((await SparkplugJs.DecodeAsync(sparkplug.Payload(nbirth)))[0]);

        // The connection closes (a DISCONNECT the embedded broker treats as clean): the gateway reconnects by itself
        // and the new session is born with the next bdSeq.
        await Task.Delay(500, cancel.Token); // the births of the first connection may go out twice (its own and the rebirth's)
        var before = sparkplug.Messages.Where(m => m.Topic == nbirth).ToList();
        long closing = BdSeq((await SparkplugJs.DecodeAsync(before[^1].Payload))[0]); // the session the DISCONNECT closes
        await capture.Client!.DisconnectAsync(new MqttClientDisconnectOptions(), cancel.Token);
        await sparkplug.UntilAsync(m => m.Topic == nbirth, before.Count + 1, cancel.Token);
        // The first birth after the DISCONNECT is the next session's (later ones, if the gateway reconnected again, count on).
        var reborn = sparkplug.Messages.Where(m => m.Topic == nbirth).ElementAt(before.Count);
        Assert.Equal((closing + 1) % 256, BdSeq((await SparkplugJs.DecodeAsync(reborn.Payload))[0]));

        // Now the connection drops without DISCONNECT (the client's socket closes, as in a crash): the broker publishes
        // the will of the session that dropped, an NDEATH with that session's bdSeq (the one its NBIRTH announced; the
        // gateway may have reconnected once more meanwhile, and then that session is the one that drops).
        capture.Client.Dispose();
        await sparkplug.UntilAsync(m => m.Topic == $"spBv1.0/tsviz/NDEATH/{node}", 1, cancel.Token);
        var death = (await SparkplugJs.DecodeAsync(sparkplug.Payload($"spBv1.0/tsviz/NDEATH/{node}")))[0];
        long born = BdSeq((await SparkplugJs.DecodeAsync(sparkplug.Payload(nbirth)))[0]);
        Assert.NotEqual(bdSeq, born);
        Assert.Equal(born, BdSeq(death));
        Assert.Null(death["seq"]);
    }

    [Fact]
    public async Task Stop_Clean_PublishesTheNodeDeath()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, Enabled());
        await using var sparkplug = await SparkplugObserver.StartAsync(monitor.MqttPort, cancel.Token);
        string node = $"tsviz-test-{monitor.MqttPort}";
        await sparkplug.RebirthAsync($"spBv1.0/tsviz/NCMD/{node}", cancel.Token);
        await sparkplug.UntilAsync(m => m.Topic == $"spBv1.0/tsviz/NBIRTH/{node}", 1, cancel.Token);
        long bdSeq = BdSeq((await SparkplugJs.DecodeAsync(sparkplug.Payload($"spBv1.0/tsviz/NBIRTH/{node}")))[0]);

        var stopping = monitor.StopAsync();
        await sparkplug.UntilAsync(m => m.Topic == $"spBv1.0/tsviz/NDEATH/{node}", 1, cancel.Token);
        await stopping;
        Assert.Equal(bdSeq, BdSeq((await SparkplugJs.DecodeAsync(sparkplug.Payload($"spBv1.0/tsviz/NDEATH/{node}")))[0]));
    }

    [Theory]
    [InlineData("Monitor:Sparkplug:Output:GroupId", "a/b", "Monitor:Sparkplug:Output:GroupId must be a Sparkplug id")]
    [InlineData("Monitor:Sparkplug:Output:EdgeNodeId", "node+1", "Monitor:Sparkplug:Output:EdgeNodeId must be a Sparkplug id")]
    public void Validate_AnInvalidSparkplugId_NamesTheKey(string key, string value, string expected)
    {
        var options = new MonitorOptions();
        options.Sparkplug.Output.Enabled = true;
        if (key.EndsWith("GroupId", StringComparison.Ordinal))
        {
            options.Sparkplug.Output.GroupId = value;
        }
        else
        {
            options.Sparkplug.Output.EdgeNodeId = value;
        }

        var result = MonitorHost.ValidateOptions(options);
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_InputReadingEveryGroup_NamesTheInputGroupIds()
    {
        var options = new MonitorOptions();
        options.Sparkplug.Output.Enabled = true;
        options.Sparkplug.Input.Enabled = true;
        var result = MonitorHost.ValidateOptions(options);
        Assert.Contains(result.Failures!, f => f.StartsWith("Monitor:Sparkplug:Input:GroupIds must not include", StringComparison.Ordinal));
        options.Sparkplug.Input.GroupIds = ["plant"];
        Assert.True(MonitorHost.ValidateOptions(options).Succeeded);
    }

    private static Dictionary<string, string?> Enabled() => new() { ["Monitor:Sparkplug:Output:Enabled"] = "true" };

    private static JsonObject? Named(JsonObject payload, string name)
        => payload["metrics"]!.AsArray().Select(m => m!.AsObject()).FirstOrDefault(m => Text(m["name"]) == name);

    private static long BdSeq(JsonObject payload) => long.Parse(Text(Named(payload, SparkplugMetricNames.BdSeq)!["value"])!, CultureInfo.InvariantCulture);

    private static string? Text(JsonNode? node) => node?.ToString();

    /// <summary>Keeps the gateway's MQTT client, so a test can drop the connection as a crash would (with its will).</summary>
    private sealed class ClientCapture : IMqttSessionParticipant
    {
        public IMqttClient? Client { get; private set; }

        public IReadOnlyList<string> Subscriptions => [];

        public MqttApplicationMessage? Will() => null;

        public Task ConnectedAsync(IMqttClient client, CancellationToken cancellationToken)
        {
            Client = client;
            return Task.CompletedTask;
        }

        public Task ReceivedAsync(MqttApplicationMessage message, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task DisconnectingAsync(IMqttClient client, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>A second session on the broker, subscribed to spBv1.0/#, keeping every message's topic and bytes.</summary>
internal sealed class SparkplugObserver : IAsyncDisposable
{
    private readonly IMqttClient client = new MqttClientFactory().CreateMqttClient();

    private SparkplugObserver()
    {
    }

    public ConcurrentQueue<(string Topic, byte[] Payload)> Messages { get; } = new();

    public static async Task<SparkplugObserver> StartAsync(int port, CancellationToken cancellationToken)
    {
        var observer = new SparkplugObserver();
        observer.client.ApplicationMessageReceivedAsync += e =>
        {
            observer.Messages.Enqueue((e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray()));
            return Task.CompletedTask;
        };
        await MqttTestClients.ConnectWithRetry(observer.client, new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId($"sparkplug-observer-{port}").Build(), cancellationToken);
        await observer.client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("spBv1.0/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);
        return observer;
    }

    /// <summary>The last payload on <paramref name="topic"/>.</summary>
    public byte[] Payload(string topic) => Messages.Last(m => m.Topic == topic).Payload;

    /// <summary>Publishes an NCMD with Node Control/Rebirth true, encoded by Tahu's codec.</summary>
    public async Task RebirthAsync(string topic, CancellationToken cancellationToken)
    {
        var command = (await SparkplugJs.EncodeAsync(SparkplugJs.Payload(DateTimeOffset.UtcNow, null,
            SparkplugJs.Metric(SparkplugMetricNames.NodeControlRebirth, "Boolean", true))))[0];
        await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(command).Build(), cancellationToken);
    }

    /// <summary>Waits until at least <paramref name="count"/> messages match.</summary>
    public Task UntilAsync(Func<(string Topic, byte[] Payload), bool> match, int count, CancellationToken cancellationToken)
        => LiveTestMonitor.Until(() => Messages.Count(match) >= count, cancellationToken, () => string.Join(", ", Messages.Select(m => m.Topic)));

    public async ValueTask DisposeAsync()
    {
        if (client.IsConnected)
        {
            await client.DisconnectAsync();
        }

        client.Dispose();
    }
}
