using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TSViz.Monitor.Cluster;
using TSViz.Monitor.Live;
using TSViz.Monitor.Tests.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Cluster;

/// <summary>
/// Cluster mode on real parts: Mosquitto with the plant settings (shared subscriptions), a real PostgreSQL for the
/// history, and the monitor's nodes as Orleans silos in this process. Samples of several machines, published
/// interleaved, reach the machines' owners; every expected window is stored once, and every message is acknowledged.
/// </summary>
[Collection(SharedPostgresServer.Name)]
public sealed class ClusterModeTests(PostgresServer server)
{
    private const int Machines = 3;
    private const int SamplesPerMachine = 400;

    internal static WebApplication Node(int brokerPort, string connectionString, string name, Dictionary<string, string?>? extra = null)
    {
        var settings = NodeSettings(brokerPort, connectionString, name);
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return MosquittoIntegrationTests.Monitor(brokerPort, settings);
    }

    /// <summary>A cluster node's settings on the broker and database given: no simulator, no jobs, free ports.</summary>
    internal static Dictionary<string, string?> NodeSettings(int brokerPort, string connectionString, string name) => new()
    {
        ["Monitor:Simulator:Enabled"] = "false",
        ["Monitor:Jobs:Enabled"] = "false",
        ["Monitor:MaxGapSeconds"] = "600",
        ["Monitor:History:Provider"] = "postgres",
        ["Monitor:History:ConnectionString"] = connectionString,
        ["Monitor:Cluster:Enabled"] = "true",
        ["Monitor:Cluster:ClusterId"] = $"test-{brokerPort}",
        ["Monitor:Cluster:NodeName"] = name,
        ["Monitor:Cluster:SiloPort"] = Loopback.FreePort().ToString(CultureInfo.InvariantCulture),
        ["Monitor:Cluster:GatewayPort"] = Loopback.FreePort().ToString(CultureInfo.InvariantCulture),
        ["Monitor:Mqtt:ClientId"] = $"tsviz-{brokerPort}",
    };

    [Fact]
    public async Task OneNode_InterleavedMachines_EveryWindowStoredOnceThroughTheOwnersAndAllInputAcknowledged()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        string connection = await server.CreateDatabaseAsync();
        await using var broker = await MosquittoBroker.StartAsync();
        await using var node = Node(broker.Port, connection, "n1");
        await node.StartAsync(cancel.Token);
        try
        {
            var gateway = node.Services.GetRequiredService<MqttGateway>();
            await LiveTestMonitor.Until(() => gateway.IsConnected, cancel.Token);
            int length = node.Services.GetRequiredService<LiveModel>().Metadata.WindowLength;
            var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-30));
            await using var publisher = await SamplePublisher.ConnectAsync(broker.Port, cancel.Token);
            for (int i = 0; i < SamplesPerMachine; i++)
            {
                for (int m = 1; m <= Machines; m++)
                {
                    await publisher.PublishAsync($"plant/line1/m{m}/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i), cancel.Token);
                }
            }

            long expectedPerMachine = Enumerable.Range(0, SamplesPerMachine).Count(i => i >= length - 1 && (i - (length - 1)) % 10 == 0);
            var metrics = node.Services.GetRequiredService<LiveMetrics>();
            await LiveTestMonitor.Until(() => Scalar(connection, "SELECT COUNT(*) FROM windows").GetAwaiter().GetResult() >= expectedPerMachine * Machines
                && metrics.InputUnacknowledged.Value == 0, cancel.Token,
                () => $"{Scalar(connection, "SELECT COUNT(*) FROM windows").GetAwaiter().GetResult()} of {expectedPerMachine * Machines} windows stored, {metrics.InputUnacknowledged.Value} unacknowledged; "
                    + $"dropped out of order {metrics.SamplesDropped.WithLabels("out_of_order").Value}, resets {metrics.WindowResets.Value}, received {metrics.MessagesReceived.Value}, "
                    + $"rejected {string.Join(",", metrics.MessagesRejected.GetAllLabelValues().Select(l => l[0] + "=" + metrics.MessagesRejected.WithLabels(l).Value))}, "
                    + $"first window ends {Scalar(connection, $"SELECT (MIN(window_end) - {start.ToUnixTimeMilliseconds()}) / 100 FROM windows").GetAwaiter().GetResult()}, "
                    + $"handed {node.Services.GetRequiredService<ClusterMetrics>().Handovers.WithLabels("delivered").Value}");

            for (int m = 1; m <= Machines; m++)
            {
                Assert.Equal(expectedPerMachine, await Scalar(connection, $"SELECT COUNT(DISTINCT window_end) FROM windows WHERE machine = 'line1/m{m}'"));
                Assert.Equal(expectedPerMachine, await Scalar(connection, $"SELECT COUNT(*) FROM windows WHERE machine = 'line1/m{m}'"));
            }

            var cluster = node.Services.GetRequiredService<ClusterMetrics>();
            // Batched per machine while the previous hand-over is under way: at least one per machine, at most one per message.
            Assert.InRange(cluster.Handovers.WithLabels("delivered").Value, Machines, SamplesPerMachine * Machines);
            Assert.Equal(0, cluster.Handovers.WithLabels("retried").Value);
            Assert.Equal(0, cluster.HandoversInFlight.Value);
            Assert.Equal(0, metrics.SamplesDropped.WithLabels("out_of_order").Value);
        }
        finally
        {
            await node.StopAsync(CancellationToken.None);
        }
    }

    internal static async Task<long> Scalar(string connectionString, string sql)
    {
        await using var database = NpgsqlDataSource.Create(connectionString);
        await using var command = database.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>The text the query answers (null for no row or NULL).</summary>
    internal static async Task<string?> Text(string connectionString, string sql)
    {
        await using var database = NpgsqlDataSource.Create(connectionString);
        await using var command = database.CreateCommand(sql);
        return await command.ExecuteScalarAsync() as string;
    }
}
