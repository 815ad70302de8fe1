using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Monitor.Tests.Live;
using TSViz.Tests.Shared;
using Xunit.Abstractions;

namespace TSViz.Monitor.Tests.Cluster;

/// <summary>
/// Failover as a plant would meet it: three monitor nodes as their own processes on a real Mosquitto (plant settings)
/// and a real PostgreSQL, 30 machines streaming at QoS 1; one node is killed with SIGKILL a third of the way in, a
/// second two thirds in. Every expected window is stored exactly once, each machine's explanations come in window
/// order, and no machine has two open alert episodes; the longest a machine waited for its next explanation is printed.
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
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        string connection = await server.CreateDatabaseAsync();
        await using var broker = await MosquittoBroker.StartAsync();
        var clock = Stopwatch.StartNew();
        var observed = new ConcurrentQueue<(TimeSpan At, JsonElement Explanation)>();
        using var observer = new MqttClientFactory().CreateMqttClient();
        observer.ApplicationMessageReceivedAsync += e =>
        {
            observed.Enqueue((clock.Elapsed, JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray()).RootElement.Clone()));
            return Task.CompletedTask;
        };
        await MqttTestClients.ConnectWithRetry(observer, new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId("failover-observer").Build(), cancel.Token);
        await observer.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("tsviz/v1/+/+/explanation", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancel.Token);

        var nodes = new List<MonitorProcess>();
        try
        {
            for (int n = 1; n <= 3; n++)
            {
                nodes.Add(MonitorProcess.Start(Settings(broker.Port, connection, $"n{n}"), RepositoryPaths.Root, new Dictionary<string, string> { ["TSVIZ_Logging__LogLevel__TSViz.Monitor"] = "Information", ["TSVIZ_Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff " }));
            }

            foreach (var node in nodes)
            {
                await node.WaitHealthyAsync(cancel.Token);
            }

            var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-30));
            var kills = new List<(string Node, TimeSpan At)>();
            await using var publisher = await SamplePublisher.ConnectAsync(broker.Port, cancel.Token);
            for (int i = 0; i < Samples; i++)
            {
                if (i == Samples / 3 || i == 2 * Samples / 3)
                {
                    var victim = nodes[i == Samples / 3 ? 1 : 2];
                    await victim.KillAsync();
                    kills.Add((i == Samples / 3 ? "n2" : "n3", clock.Elapsed));
                    output.WriteLine($"{(i == Samples / 3 ? "n2" : "n3")} killed at {DateTime.UtcNow:HH:mm:ss.fff} UTC");
                }

                for (int m = 1; m <= Machines; m++)
                {
                    // Machines 1-10 spike across the first kill: an alert open on the node that dies continues on another.
                    double spike = m <= 10 && i > Samples / 3 - 30 && i < Samples / 3 + 30 ? 25 : 0;
                    await publisher.PublishAsync($"plant/line1/m{m}/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i, spike), cancel.Token);
                }

                await Task.Delay(25, cancel.Token);
            }

            long expected = Enumerable.Range(0, Samples).Count(i => i >= WindowLength - 1 && (i - (WindowLength - 1)) % 10 == 0);
            string Progress() => $"{ClusterModeTests.Scalar(connection, "SELECT COUNT(*) FROM windows").GetAwaiter().GetResult()} of {expected * Machines} windows stored; "
                + string.Join('\n', nodes.Select((node, k) => $"n{k + 1}'s cluster log:\n" + string.Join('\n', node.Log.Split('\n')
                    .Where(l => l.Contains("dead", StringComparison.Ordinal) || l.Contains("session", StringComparison.Ordinal) || l.Contains("flow again", StringComparison.Ordinal)).Take(60))))
                + "\nper machine: " + string.Join(", ", Enumerable.Range(1, Machines).Select(m => $"m{m}={ClusterModeTests.Scalar(connection, $"SELECT COUNT(*) FROM windows WHERE machine = 'line1/m{m}'").GetAwaiter().GetResult()}"))
                + "\nfirst missing per machine (sample index): " + string.Join(", ", Enumerable.Range(1, Machines).Select(m => $"m{m}@{ClusterModeTests.Scalar(connection, $"SELECT COALESCE(MAX(window_end), 0) FROM windows WHERE machine = 'line1/m{m}'").GetAwaiter().GetResult() - start.ToUnixTimeMilliseconds()}"))
                + "\nmissing window ends (sample index) per machine: " + string.Join("; ", Enumerable.Range(1, Machines).Select(m => $"m{m}: " + Missing(connection, $"line1/m{m}", start)))
                + $"\nkills: {string.Join(", ", kills.Select(k => $"{k.Node}@{k.At.TotalSeconds:F1}s"))}";
            while (await ClusterModeTests.Scalar(connection, "SELECT COUNT(*) FROM windows") < expected * Machines)
            {
                if (cancel.IsCancellationRequested)
                {
                    string metricsText;
                    try
                    {
                        metricsText = await Metrics(nodes[0]);
                    }
                    catch (HttpRequestException ex)
                    {
                        metricsText = $"unreachable ({ex.Message}); exited: {nodes[0].HasExited}; its log:\n" + string.Join('\n', nodes[0].Log.Split('\n')
                            .Where(l => !l.Contains("target silo became unavailable", StringComparison.Ordinal) && !l.Contains("to its owner failed", StringComparison.Ordinal)).TakeLast(120));
                    }

                    Assert.Fail(Progress() + "\nn1 metrics:\n" + metricsText + "\nn1 retries: " + nodes[0].Log.Split('\n').Count(l => l.Contains("retrying", StringComparison.Ordinal)));
                }
                await Task.Delay(500, CancellationToken.None);
            }

            for (int m = 1; m <= Machines; m++)
            {
                string machine = $"line1/m{m}";
                Assert.Equal(expected, await ClusterModeTests.Scalar(connection, $"SELECT COUNT(*) FROM windows WHERE machine = '{machine}'"));
                Assert.Equal(expected, await ClusterModeTests.Scalar(connection, $"SELECT COUNT(DISTINCT window_end) FROM windows WHERE machine = '{machine}'"));
            }

            Assert.Equal(0, await ClusterModeTests.Scalar(connection, "SELECT COUNT(*) FROM (SELECT machine FROM alerts WHERE status = 'open' GROUP BY machine HAVING COUNT(*) > 1) AS twice"));
            Assert.True(await ClusterModeTests.Scalar(connection, "SELECT COUNT(DISTINCT machine) FROM alerts") >= 5, "the spiked machines should have alerted");

            // Window order per machine as published (a redelivery may publish a window again, never out of order).
            var byMachine = observed.ToArray().GroupBy(e => e.Explanation.GetProperty("machine").GetString()!).ToList();
            foreach (var machine in byMachine)
            {
                var ends = machine.Select(e => e.Explanation.GetProperty("windowEnd").GetDateTimeOffset()).ToList();
                var firsts = ends.Where((end, k) => ends.IndexOf(end) == k).ToList();
                Assert.True(firsts.SequenceEqual(firsts.Order()), $"{machine.Key}: windows published out of order");
            }

            // Nothing came too late to be assembled: every survivor's out-of-order drop count is zero.
            foreach (var node in nodes.Where(n => !n.HasExited))
            {
                var late = (await Metrics(node)).Split('\n').Where(l => l.StartsWith("tsviz_samples_dropped_total{reason=\"out_of_order\"}", StringComparison.Ordinal));
                Assert.All(late, l => Assert.Equal(0, double.Parse(l.Split(' ')[^1], CultureInfo.InvariantCulture)));
            }

            // The staged input is consumed: what is left is at most each machine's newest row (its samples end at the checkpoint).
            while (await ClusterModeTests.Scalar(connection, "SELECT COUNT(*) FROM cluster_input") > Machines)
            {
                Assert.False(cancel.IsCancellationRequested, $"staged input not consumed: {await ClusterModeTests.Scalar(connection, "SELECT COUNT(*) FROM cluster_input")} rows left");
                await Task.Delay(500, CancellationToken.None);
            }

            // From each kill to each machine's next explanation; beside it, the usual gap between two of a machine's explanations.
            var gaps = byMachine.SelectMany(m => m.Zip(m.Skip(1), (a, b) => (b.At - a.At).TotalSeconds)).Order().ToList();
            output.WriteLine($"between two explanations of a machine: median {gaps[gaps.Count / 2]:F2} s, p99 {gaps[(int)(gaps.Count * 0.99)]:F2} s");
            foreach (var (node, at) in kills)
            {
                var waits = byMachine.Select(m => m.Where(e => e.At > at).Select(e => (e.At - at).TotalSeconds).DefaultIfEmpty(double.NaN).Min()).Order().ToList();
                output.WriteLine($"{node} killed at {at.TotalSeconds:F1} s into the stream; kill to each machine's next explanation: median {waits[waits.Count / 2]:F2} s, longest {waits[^1]:F2} s");
            }

            output.WriteLine($"explanations observed: {observed.Count} for {expected * Machines} windows");
            output.WriteLine($"survivor n1 metrics:\n{await Metrics(nodes[0])}");
        }
        finally
        {
            // Each node's log, for the post-mortem of a failed run.
            string logs = Path.Combine(RepositoryPaths.Root, "artifacts", "cluster-failover");
            Directory.CreateDirectory(logs);
            for (int n = 0; n < nodes.Count; n++)
            {
                await nodes[n].KillAsync();
                await File.WriteAllTextAsync(Path.Combine(logs, $"n{n + 1}.log"), nodes[n].TimedLog, CancellationToken.None);
                await nodes[n].DisposeAsync();
            }
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
