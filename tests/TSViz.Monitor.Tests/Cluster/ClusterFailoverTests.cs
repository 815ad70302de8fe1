using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Monitor.Tests.Live;
using TSViz.Tests.Shared;
using Xunit.Abstractions;

namespace TSViz.Monitor.Tests.Cluster;

/// <summary>
/// Cluster mode as a plant would meet it: monitor nodes as their own processes on a real Mosquitto (plant settings) and
/// a real PostgreSQL, 30 machines streaming at QoS 1. Failover: of three nodes one is killed with SIGKILL a third of the
/// way in, a second two thirds in. Rebalancing: a third node joins two. Every expected window is stored exactly once,
/// each machine's explanations come in window order, nothing is dropped as late and the staged input is consumed;
/// after the kills no machine has two open alert episodes, and the time from each kill to each machine's next
/// explanation is printed.
/// </summary>
[Collection(SharedPostgresServer.Name)]
public sealed class ClusterFailoverTests(PostgresServer server, ITestOutputHelper output)
{
    private const int Machines = 30;
    private const int Samples = 300;
    private static readonly int WindowLength = TSViz.Explain.Onnx.OnnxModelFile.Load(RepositoryPaths.AnomalyModel).Metadata.WindowLength;

    [Fact]
    public async Task ThreeNodes_TwoKilledMidStream_EveryWindowStoredOnceInOrderAndOneOpenEpisodePerMachine()
    {
        await using var run = await Run.StartAsync(server, output, nodes: 3);
        var kills = new List<(string Node, TimeSpan At)>();
        await run.StreamAsync(async i =>
        {
            if (i == Samples / 3 || i == 2 * Samples / 3)
            {
                int victim = i == Samples / 3 ? 1 : 2;
                await run.Nodes[victim].KillAsync();
                kills.Add(($"n{victim + 1}", run.Clock.Elapsed));
                output.WriteLine($"n{victim + 1} killed at {DateTime.UtcNow:HH:mm:ss.fff} UTC");
            }
        });

        var byMachine = await run.AssertEveryWindowStoredOnceInOrderAsync($"kills: {string.Join(", ", kills.Select(k => $"{k.Node}@{k.At.TotalSeconds:F1}s"))}");
        Assert.Equal(0, await ClusterModeTests.Scalar(run.Connection, "SELECT COUNT(*) FROM (SELECT machine FROM alerts WHERE status = 'open' GROUP BY machine HAVING COUNT(*) > 1) AS twice"));
        Assert.True(await ClusterModeTests.Scalar(run.Connection, "SELECT COUNT(DISTINCT machine) FROM alerts") >= 5, "the spiked machines should have alerted");

        // From each kill to each machine's next explanation; beside it, the usual gap between two of a machine's explanations.
        var gaps = byMachine.SelectMany(m => m.Zip(m.Skip(1), (a, b) => (b.At - a.At).TotalSeconds)).Order().ToList();
        output.WriteLine($"between two explanations of a machine: median {gaps[gaps.Count / 2]:F2} s, p99 {gaps[(int)(gaps.Count * 0.99)]:F2} s");
        foreach (var (node, at) in kills)
        {
            var waits = byMachine.Select(m => m.Where(e => e.At > at).Select(e => (e.At - at).TotalSeconds).DefaultIfEmpty(double.NaN).Min()).Order().ToList();
            output.WriteLine($"{node} killed at {at.TotalSeconds:F1} s into the stream; kill to each machine's next explanation: median {waits[waits.Count / 2]:F2} s, longest {waits[^1]:F2} s");
        }

        output.WriteLine($"survivor n1 metrics:\n{await Metrics(run.Nodes[0])}");
    }

    /// <summary>
    /// Rebalancing: two nodes stream 30 machines; a third joins a third of the way in. It takes its share of the input
    /// (it stages and hands over samples) and no window is lost or stored twice.
    /// </summary>
    [Fact]
    public async Task TwoNodes_AThirdJoinsMidStream_TakesAShareWithoutLossOrDuplicates()
    {
        await using var run = await Run.StartAsync(server, output, nodes: 2);
        Task? joined = null;
        await run.StreamAsync(i =>
        {
            if (i == Samples / 3)
            {
                joined = run.AddNodeAsync();
            }

            return Task.CompletedTask;
        });

        await joined!;
        await run.AssertEveryWindowStoredOnceInOrderAsync("n3 joined a third of the way in");
        string joinedMetrics = await Metrics(run.Nodes[2]);
        Assert.True(Counter(joinedMetrics, "tsviz_cluster_staged_rows_total") > 0, "the joined node staged no input:\n" + joinedMetrics);
        Assert.True(Counter(joinedMetrics, "tsviz_cluster_handovers_total{outcome=\"delivered\"}") > 0, "the joined node handed nothing over:\n" + joinedMetrics);
        output.WriteLine($"joined node n3:\n{joinedMetrics}");
    }

    /// <summary>
    /// A burst on two nodes, as a plant's gateways send after a reconnect: 20 machines, 10 samples per message, published
    /// as fast as the broker takes them. The owners activate while both nodes are still staging; every window is stored
    /// once, no sample is dropped from the start, and the clean signal opens no alert.
    /// </summary>
    [Fact]
    public async Task TwoNodes_BurstOfBatches_NoSampleDroppedFromTheStartAndNoFalseAlert()
    {
        const int machines = 20, samples = 600, perMessage = 10;
        await using var run = await Run.StartAsync(server, output, nodes: 2);
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-30));
        await using (var publisher = await SamplePublisher.ConnectAsync(run.Port, run.Token))
        {
            for (int first = 0; first < samples; first += perMessage)
            {
                for (int m = 1; m <= machines; m++)
                {
                    string batch = "{\"samples\":[" + string.Join(',', Enumerable.Range(first, perMessage).Select(i => LiveTestMonitor.SampleJson(start.AddMilliseconds(10 * i), i))) + "]}";
                    await publisher.PublishAsync($"plant/line1/m{m}/telemetry", batch, run.Token);
                }
            }
        }

        long expected = machines * Enumerable.Range(0, samples).Count(i => i >= WindowLength - 1 && (i - (WindowLength - 1)) % 10 == 0);
        while (await ClusterModeTests.Scalar(run.Connection, "SELECT COUNT(*) FROM windows") < expected)
        {
            Assert.False(run.Token.IsCancellationRequested, $"{await ClusterModeTests.Scalar(run.Connection, "SELECT COUNT(*) FROM windows")} of {expected} windows stored");
            await Task.Delay(500, CancellationToken.None);
        }

        Assert.Equal(expected, await ClusterModeTests.Scalar(run.Connection, "SELECT COUNT(DISTINCT (machine, window_end)) FROM windows"));
        foreach (var node in run.Nodes)
        {
            string metrics = await Metrics(node);
            Assert.True(Counter(metrics, "tsviz_samples_dropped_total{reason=\"out_of_order\"}") == 0, "samples dropped as late:\n" + metrics);
        }

        Assert.Equal("", await ClusterModeTests.Text(run.Connection, "SELECT COALESCE(string_agg(DISTINCT machine, ', '), '') FROM alerts"));
    }

    private static double Counter(string metrics, string series)
        => metrics.Split('\n').Where(l => l.StartsWith(series + " ", StringComparison.Ordinal)).Select(l => double.Parse(l.Split(' ')[^1], CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Sum();

    /// <summary>One run: a Mosquitto (plant settings), a database, the nodes as their own processes, an observer of the explanations.</summary>
    private sealed class Run : IAsyncDisposable
    {
        private readonly ITestOutputHelper output;
        private readonly CancellationTokenSource cancel = new(TimeSpan.FromSeconds(150));
        private MosquittoBroker broker = null!;
        private IMqttClient observer = null!;
        private DateTimeOffset start;

        private Run(ITestOutputHelper output) => this.output = output;

        public List<MonitorProcess> Nodes { get; } = [];

        public string Connection { get; private set; } = "";

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public ConcurrentQueue<(TimeSpan At, JsonElement Explanation)> Observed { get; } = new();

        public CancellationToken Token => cancel.Token;

        public int Port => broker.Port;

        public static async Task<Run> StartAsync(PostgresServer server, ITestOutputHelper output, int nodes)
        {
            var run = new Run(output);
            run.Connection = await server.CreateDatabaseAsync();
            run.broker = await MosquittoBroker.StartAsync();
            run.observer = new MqttClientFactory().CreateMqttClient();
            run.observer.ApplicationMessageReceivedAsync += e =>
            {
                run.Observed.Enqueue((run.Clock.Elapsed, JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray()).RootElement.Clone()));
                return Task.CompletedTask;
            };
            await MqttTestClients.ConnectWithRetry(run.observer, new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", run.broker.Port).WithClientId("failover-observer").Build(), run.Token);
            await run.observer.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("tsviz/v1/+/+/explanation", MqttQualityOfServiceLevel.AtLeastOnce).Build(), run.Token);
            for (int n = 0; n < nodes; n++)
            {
                run.Nodes.Add(run.Node());
            }

            foreach (var node in run.Nodes)
            {
                await node.WaitHealthyAsync(run.Token);
            }

            return run;
        }

        /// <summary>Starts one more node and waits until it is healthy.</summary>
        public async Task AddNodeAsync()
        {
            var node = Node();
            Nodes.Add(node);
            await node.WaitHealthyAsync(Token);
            output.WriteLine($"n{Nodes.Count} healthy at {Clock.Elapsed.TotalSeconds:F1} s");
        }

        private MonitorProcess Node() => MonitorProcess.Start(Settings(broker.Port, Connection, $"n{Nodes.Count + 1}"), RepositoryPaths.Root,
            new Dictionary<string, string> { ["TSVIZ_Logging__LogLevel__TSViz.Monitor"] = "Information" });

        /// <summary>
        /// Publishes <see cref="Samples"/> rounds, one sample of each machine per round at QoS 1 (sample i stamped
        /// start + 100 ms * i), calling <paramref name="before"/> with the round's index first. Machines 1-10 spike
        /// across the first third: an alert open on a node that dies continues on another.
        /// </summary>
        public async Task StreamAsync(Func<int, Task> before)
        {
            start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-30));
            await using var publisher = await SamplePublisher.ConnectAsync(broker.Port, Token);
            for (int i = 0; i < Samples; i++)
            {
                await before(i);
                for (int m = 1; m <= Machines; m++)
                {
                    double spike = m <= 10 && i > Samples / 3 - 30 && i < Samples / 3 + 30 ? 25 : 0;
                    await publisher.PublishAsync($"plant/line1/m{m}/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i, spike), Token);
                }

                await Task.Delay(25, Token);
            }
        }

        /// <summary>
        /// Every expected window of every machine stored exactly once, published in window order, no sample dropped as
        /// late on a live node, the staged input consumed. Returns the observed explanations by machine.
        /// </summary>
        public async Task<List<IGrouping<string, (TimeSpan At, JsonElement Explanation)>>> AssertEveryWindowStoredOnceInOrderAsync(string story)
        {
            long expected = Enumerable.Range(0, Samples).Count(i => i >= WindowLength - 1 && (i - (WindowLength - 1)) % 10 == 0);
            while (await ClusterModeTests.Scalar(Connection, "SELECT COUNT(*) FROM windows") < expected * Machines)
            {
                if (cancel.IsCancellationRequested)
                {
                    Assert.Fail(await ProgressAsync(expected) + "\n" + story);
                }

                await Task.Delay(500, CancellationToken.None);
            }

            for (int m = 1; m <= Machines; m++)
            {
                string machine = $"line1/m{m}";
                Assert.Equal(expected, await ClusterModeTests.Scalar(Connection, $"SELECT COUNT(*) FROM windows WHERE machine = '{machine}'"));
                Assert.Equal(expected, await ClusterModeTests.Scalar(Connection, $"SELECT COUNT(DISTINCT window_end) FROM windows WHERE machine = '{machine}'"));
            }

            // The windows are the signal as sent: the machines that never spiked never alerted.
            Assert.Equal("", await ClusterModeTests.Text(Connection, "SELECT COALESCE(string_agg(DISTINCT machine, ', '), '') FROM alerts WHERE machine NOT IN ("
                + string.Join(", ", Enumerable.Range(1, 10).Select(m => $"'line1/m{m}'")) + ")"));

            // Window order per machine as published (a redelivery may publish a window again, never out of order).
            var byMachine = Observed.ToArray().GroupBy(e => e.Explanation.GetProperty("machine").GetString()!).ToList();
            foreach (var machine in byMachine)
            {
                var ends = machine.Select(e => e.Explanation.GetProperty("windowEnd").GetDateTimeOffset()).ToList();
                var firsts = ends.Where((end, k) => ends.IndexOf(end) == k).ToList();
                Assert.True(firsts.SequenceEqual(firsts.Order()), $"{machine.Key}: windows published out of order");
            }

            // Nothing came too late to be assembled: every live node's out-of-order drop count is zero.
            foreach (var node in Nodes.Where(n => !n.HasExited))
            {
                Assert.Equal(0, Counter(await Metrics(node), "tsviz_samples_dropped_total{reason=\"out_of_order\"}"));
            }

            // The staged input is consumed: what is left is at most each machine's newest row (its samples end at the checkpoint).
            while (await ClusterModeTests.Scalar(Connection, "SELECT COUNT(*) FROM cluster_input") > Machines)
            {
                Assert.False(cancel.IsCancellationRequested, $"staged input not consumed: {await ClusterModeTests.Scalar(Connection, "SELECT COUNT(*) FROM cluster_input")} rows left");
                await Task.Delay(500, CancellationToken.None);
            }

            output.WriteLine($"explanations observed: {Observed.Count} for {expected * Machines} windows");
            return byMachine;
        }

        private async Task<string> ProgressAsync(long expected)
        {
            var text = new StringBuilder($"{await ClusterModeTests.Scalar(Connection, "SELECT COUNT(*) FROM windows")} of {expected * Machines} windows stored");
            text.Append("\nmissing window ends (sample index) per machine: ").AppendJoin("; ", Enumerable.Range(1, Machines).Select(m => $"m{m}: " + Missing(Connection, $"line1/m{m}", start)));
            foreach (var (node, k) in Nodes.Select((node, k) => (node, k)).Where(n => !n.node.HasExited))
            {
                try
                {
                    text.Append($"\nn{k + 1} metrics:\n").Append(await Metrics(node));
                }
                catch (HttpRequestException ex)
                {
                    text.Append($"\nn{k + 1} unreachable: {ex.Message}");
                }
            }

            return text.ToString();
        }

        public async ValueTask DisposeAsync()
        {
            // Each node's log, with the time each line was read, for the post-mortem of a failed run.
            string logs = Path.Combine(RepositoryPaths.Root, "artifacts", "cluster-failover");
            Directory.CreateDirectory(logs);
            for (int n = 0; n < Nodes.Count; n++)
            {
                await Nodes[n].KillAsync();
                await File.WriteAllTextAsync(Path.Combine(logs, $"n{n + 1}.log"), Nodes[n].TimedLog, CancellationToken.None);
                await Nodes[n].DisposeAsync();
            }

            observer.Dispose();
            await broker.DisposeAsync();
            cancel.Dispose();
        }
    }

    private static Dictionary<string, string> Settings(int brokerPort, string connection, string name)
    {
        var settings = ClusterModeTests.NodeSettings(brokerPort, connection, name);
        settings["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel;
        settings["Monitor:Mqtt:EmbeddedBroker"] = "false";
        settings["Monitor:Mqtt:Port"] = brokerPort.ToString(CultureInfo.InvariantCulture);
        settings["Monitor:WarmUp"] = "false";
        return settings.ToDictionary(s => s.Key, s => s.Value!);
    }

    private static string Missing(string connection, string machine, DateTimeOffset start)
    {
        using var database = Npgsql.NpgsqlDataSource.Create(connection);
        using var command = database.CreateCommand($"SELECT window_end FROM windows WHERE machine = '{machine}'");
        using var reader = command.ExecuteReader();
        var stored = new HashSet<long>();
        while (reader.Read())
        {
            stored.Add((reader.GetInt64(0) - start.ToUnixTimeMilliseconds()) / 100);
        }

        var expected = Enumerable.Range(0, Samples).Where(i => i >= WindowLength - 1 && (i - (WindowLength - 1)) % 10 == 0).Select(i => (long)i).ToHashSet();
        return $"missing [{string.Join(',', expected.Except(stored).Order())}] extra [{string.Join(',', stored.Except(expected).Order())}]";
    }

    private static async Task<string> Metrics(MonitorProcess node)
    {
        using var http = new HttpClient();
        string text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{node.HttpPort}/metrics"));
        string healthText = await (await http.GetAsync(new Uri($"http://127.0.0.1:{node.HttpPort}/health"))).Content.ReadAsStringAsync();
        return healthText + "\n" + string.Join('\n', text.Split('\n').Where(l => l.StartsWith("tsviz_cluster", StringComparison.Ordinal) || l.StartsWith("tsviz_samples_dropped", StringComparison.Ordinal)
            || l.StartsWith("tsviz_input_unacknowledged", StringComparison.Ordinal) || l.StartsWith("tsviz_queue_depth", StringComparison.Ordinal) || l.StartsWith("tsviz_history_backlog", StringComparison.Ordinal)
            || l.StartsWith("tsviz_windows_scored", StringComparison.Ordinal) || l.StartsWith("tsviz_messages_rejected", StringComparison.Ordinal)
            || l.StartsWith("tsviz_messages_redelivered", StringComparison.Ordinal) || l.StartsWith("tsviz_history_windows_total", StringComparison.Ordinal)));
    }
}
