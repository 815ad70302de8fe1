using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Prometheus;
using TSViz.Monitor.Cluster;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Postgres;
using TSViz.Plugins.Windows;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Cluster;

/// <summary>
/// The staged input on a real PostgreSQL, with the history's own schema and checkpoints: rows come back per machine,
/// after a time, oldest first and intact; rows older than their machine's checkpoint are deleted, the rest kept; rows
/// nobody consumed are deleted after the expiry and counted.
/// </summary>
[Collection(SharedPostgresServer.Name)]
public sealed class StagedInputTests(PostgresServer server)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Load_ReturnsThatMachinesRowsEndingAfterTheTime_OldestFirstAndIntact()
    {
        await using var setup = await Setup.StartAsync(server);
        await setup.Staged.StageAsync([Row("m1", 0, 1), Row("m2", 0, 1), Row("m1", 2, 3), Row("m1", 4, 5)], CancellationToken.None);

        var rows = await setup.Staged.LoadAsync("m1", Ticks(1), CancellationToken.None);

        Assert.Equal([Ticks(2), Ticks(3), Ticks(4), Ticks(5)], rows.SelectMany(r => r.Samples.TimestampTicks));
        Assert.Equal([2f, 20f, 3f, 30f, 4f, 40f, 5f, 50f], rows.SelectMany(r => r.Samples.Values));
        Assert.All(rows, r => Assert.Equal(("m1", "plant/m1/telemetry", 2, setup.Time.GetUtcNow().ToUnixTimeMilliseconds()), (r.Samples.Machine, r.Samples.Topic, r.Samples.Channels, r.StagedAt.ToUnixTimeMilliseconds())));
        Assert.Equal(3, (await setup.Staged.LoadAsync("m1", long.MinValue, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task CleanUp_DeletesRowsOlderThanTheirMachinesCheckpoint_AndKeepsTheRest()
    {
        await using var setup = await Setup.StartAsync(server);
        await setup.Staged.StageAsync([Row("m1", 0, 1), Row("m1", 2, 3), Row("m1", 4, 5), Row("m2", 0, 1)], CancellationToken.None);
        // m1's windows are durable up to sample 3: its checkpoint's newest sample. m2 has no checkpoint yet.
        await setup.History.WriteBatchAsync(new HistoryBatch { Checkpoints = [new WindowCheckpoint("m1", [T0.AddSeconds(2), T0.AddSeconds(3)], [2f, 20f, 3f, 30f], 2, 1)] },
            CancellationToken.None);

        var (consumed, expired) = await setup.Staged.CleanUpAsync(CancellationToken.None);

        Assert.Equal((1, 0), (consumed, expired)); // only the row of samples 0-1; the one ending at the checkpoint stays
        Assert.Equal([Ticks(2), Ticks(3), Ticks(4), Ticks(5)], (await setup.Staged.LoadAsync("m1", long.MinValue, CancellationToken.None)).SelectMany(r => r.Samples.TimestampTicks));
        Assert.Single(await setup.Staged.LoadAsync("m2", long.MinValue, CancellationToken.None));
    }

    [Fact]
    public async Task CleanUp_RowsNobodyConsumedWithinTheExpiry_AreDeletedAndCounted()
    {
        await using var setup = await Setup.StartAsync(server);
        await setup.Staged.StageAsync([Row("m1", 0, 1)], CancellationToken.None);
        setup.Time.Advance(StagedInput.Expiry - TimeSpan.FromSeconds(1));
        await setup.Staged.StageAsync([Row("m1", 2, 3)], CancellationToken.None);
        Assert.Equal((0, 0), await setup.Staged.CleanUpAsync(CancellationToken.None));

        setup.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal((0, 1), await setup.Staged.CleanUpAsync(CancellationToken.None));
        Assert.Equal([Ticks(2), Ticks(3)], (await setup.Staged.LoadAsync("m1", long.MinValue, CancellationToken.None)).SelectMany(r => r.Samples.TimestampTicks));
    }

    private static long Ticks(int second) => T0.AddSeconds(second).UtcTicks;

    /// <summary>Samples <paramref name="from"/>..<paramref name="to"/> (one a second) of a machine, two channels: (s, 10 s).</summary>
    private static MachineSamples Row(string machine, int from, int to)
    {
        var seconds = Enumerable.Range(from, to - from + 1).ToArray();
        return new MachineSamples(machine, $"plant/{machine}/telemetry", [.. seconds.Select(Ticks)], [.. seconds.SelectMany(s => new[] { (float)s, 10f * s })], 2, false);
    }

    private sealed class Setup : IAsyncDisposable
    {
        private ClusterDatabase database = null!;

        public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

        public StagedInput Staged { get; private set; } = null!;

        public PostgresHistoryStore History { get; private set; } = null!;

        public static async Task<Setup> StartAsync(PostgresServer server)
        {
            string connection = await server.CreateDatabaseAsync();
            var setup = new Setup();
            setup.History = new PostgresHistoryStore(connection);
            await setup.History.InitializeAsync(CancellationToken.None);
            var options = Options.Create(new MonitorOptions());
            options.Value.History.Provider = "postgres";
            options.Value.History.ConnectionString = connection;
            setup.database = new ClusterDatabase(options);
            await using (var command = setup.database.Source.CreateCommand(ClusterTables()))
            {
                await command.ExecuteNonQueryAsync();
            }

            setup.Staged = new StagedInput(setup.database, options, new ClusterMetrics(Metrics.NewCustomRegistry()), setup.Time, NullLogger<StagedInput>.Instance);
            return setup;
        }

        private static string ClusterTables()
        {
            using var stream = typeof(StagedInput).Assembly.GetManifestResourceStream("cluster/cluster_tables_postgres.sql")!;
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }

        public async ValueTask DisposeAsync()
        {
            Staged.Dispose();
            database.Dispose();
            await History.DisposeAsync();
            NpgsqlConnection.ClearAllPools();
        }
    }
}
