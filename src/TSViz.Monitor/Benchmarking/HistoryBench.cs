using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TSViz.Explain;
using TSViz.Explain.Attribution;
using TSViz.Monitor.Cluster;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Live;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Postgres;
using TSViz.Plugins.History.Sqlite;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Windows;

namespace TSViz.Monitor.Benchmarking;

/// <summary>
/// `bench --only history`: what the SQLite history sustains and what it costs on disk, with records shaped like the
/// live path's (real explanations of the shipped model, the published JSON as the full explanation). Measured side by
/// side: compact records only, and compact records with full explanations for a share of windows. With `--postgres`,
/// the live path's writer on SQLite and on a temporary PostgreSQL 15 in the same run, and cluster mode's staged-input
/// COPY.
/// </summary>
internal static class HistoryBench
{
    public static void Run(TextWriter output, Explainer explainer, float[] windows, int size, double seconds, bool postgres, CancellationToken cancellationToken)
    {
        int channels = explainer.Metadata.Channels.Count;
        int length = explainer.Metadata.WindowLength;
        var explanations = explainer.Explain(windows, size);
        var payloads = explanations.Select((e, i) => JsonSerializer.SerializeToUtf8Bytes(new ExplanationMessage(
            $"m{i % 40}:{i}", $"m{i % 40}", "anomaly-cnn 1.0.0", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, e.Score, e.Score >= 0.5f, "normal",
            e.Differentiated, e.GradientsVanished, explainer.Metadata.Channels.Select((c, k) => (c, k)).ToDictionary(p => p.c, p => e.ChannelContributions[p.k]),
            explainer.Metadata.Channels[0], ChannelRows.Of(e.Saliency, channels, length),
            e.TopSteps.Select(s => new TopStepMessage(s.ChannelName, s.Step, s.Saliency)).ToList(),
            e.Layers.SelectMany(l => l.Ranking.Take(3).Select(f => new TopFilterMessage(l.Name, f, l.Influence[f], l.Scaled[f]))).ToList(),
            new RobustnessMessage("fgsm", 0.1, e.Score, e.Score, false, null, null), null, null, new TimingsMessage(1, 1, 1, size)),
            LiveJsonContext.Default.ExplanationMessage)).ToArray();

        output.WriteLine($"{"history store (SQLite, WAL, 256-window transactions)",-58} {"windows/s",12} {"bytes/window",14}");
        var shares = new[] { ("compact records only, 16 KiB pages", 0.0), ("compact + full explanation for 2 % of windows", 0.02), ("compact + full explanation for every window", 1.0) };
        var rows = shares.Select(s => (s.Item1, s.Item2, PageSize: SqliteConnectionFactory.NewFilePageSize))
            .Prepend(("compact records only, 4 KiB pages (files made before; baseline)", 0.0, 4096));
        foreach (var (name, share, pageSize) in rows)
        {
            string folder = Path.Combine(Path.GetTempPath(), "tsviz-bench-history", Guid.NewGuid().ToString("N"));
            CreateWithPageSize(Path.Combine(folder, "history.db"), pageSize);
            var store = new SqliteHistoryStore(Path.Combine(folder, "history.db"));
            store.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
            long written = 0;
            int batchNumber = 0;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed.TotalSeconds < seconds)
            {
                written += store.WriteWindowsAsync(Batch(explainer, explanations, payloads, windows, size, batchNumber, share), CancellationToken.None).GetAwaiter().GetResult();
                batchNumber++;
            }

            double rate = written / watch.Elapsed.TotalSeconds;
            SqliteConnection.ClearAllPools(); // checkpoints the WAL into the file on close
            long bytes = Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-58} {rate,12:N0} {bytes / (double)written,14:N0}"));
            Directory.Delete(folder, recursive: true);
        }

        if (postgres)
        {
            WriterAndStagingAsync(output, explainer, explanations, payloads, windows, size, seconds, shares, cancellationToken).GetAwaiter().GetResult();
        }
    }

    /// <summary>An empty WAL file with the given page size, which the store then keeps (a file it did not create).</summary>
    private static void CreateWithPageSize(string path, int pageSize)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var connection = new SqliteConnection(SqliteConnectionFactory.ConnectionStringOf(path, TimeSpan.FromSeconds(5))))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = string.Create(CultureInfo.InvariantCulture, $"PRAGMA page_size={pageSize}; PRAGMA journal_mode=WAL;");
            command.ExecuteNonQuery();
        }

        SqliteConnection.ClearAllPools();
    }

    /// <summary>
    /// SQLite beside PostgreSQL (a temporary server) through the live path's writer (<see cref="IHistoryWriter"/> as the
    /// history's registrations resolve it): batches as the live monitor writes them, 256 windows with the checkpoints of
    /// the machines they came from, one transaction each; then cluster mode's staged-input COPY (<see cref="StagedInput"/>).
    /// </summary>
    private static async Task WriterAndStagingAsync(
        TextWriter output, Explainer explainer, IReadOnlyList<WindowExplanation> explanations, byte[][] payloads, float[] windows, int size, double seconds,
        (string Name, double Share)[] shares, CancellationToken cancellationToken)
    {
        await using var server = await PostgresProcess.StartAsync(cancellationToken).ConfigureAwait(false);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{$"history writer, {size}-window batches + {Machines} checkpoints (as live)",-58} {"windows/s",12} {"bytes/window",14}   (PostgreSQL 15 on 127.0.0.1:{server.Port}, temporary, fsync on)"));
        int database = 0;
        foreach (bool isPostgres in new[] { false, true })
        {
            foreach (var (name, share) in shares.Take(2))
            {
                string folder = Path.Combine(Path.GetTempPath(), "tsviz-bench-history", Guid.NewGuid().ToString("N"));
                string connection = server.ConnectionString(string.Create(CultureInfo.InvariantCulture, $"history{database++}"));
                if (isPostgres)
                {
                    await server.CreateDatabaseAsync(new Npgsql.NpgsqlConnectionStringBuilder(connection).Database!, cancellationToken).ConfigureAwait(false);
                }

                var services = new ServiceCollection();
                if (isPostgres)
                {
                    services.AddPostgresHistory(_ => connection);
                }
                else
                {
                    services.AddSqliteHistory(_ => (Path.Combine(folder, "history.db"), TimeSpan.FromSeconds(5)));
                }

                long written = 0;
                double rate;
                await using (var provider = services.BuildServiceProvider())
                {
                    await provider.GetRequiredService<IHistorySchema>().InitializeAsync(cancellationToken).ConfigureAwait(false);
                    var writer = provider.GetRequiredService<IHistoryWriter>();
                    int batchNumber = 0;
                    var watch = Stopwatch.StartNew();
                    while (watch.Elapsed.TotalSeconds < seconds)
                    {
                        var batch = new HistoryBatch
                        {
                            Windows = Batch(explainer, explanations, payloads, windows, size, batchNumber, share),
                            Checkpoints = Checkpoints(batchNumber, explainer.Metadata.Channels.Count, explainer.Metadata.WindowLength),
                        };
                        written += await writer.WriteBatchAsync(batch, cancellationToken).ConfigureAwait(false);
                        batchNumber++;
                    }

                    rate = written / watch.Elapsed.TotalSeconds;
                }

                long bytes;
                if (isPostgres)
                {
                    await using var source = Npgsql.NpgsqlDataSource.Create(connection);
                    await using var command = source.CreateCommand("SELECT pg_total_relation_size('windows') + pg_total_relation_size('window_details')");
                    bytes = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
                }
                else
                {
                    SqliteConnection.ClearAllPools();
                    bytes = Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);
                    Directory.Delete(folder, recursive: true);
                }

                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{$"{(isPostgres ? "PostgreSQL" : "SQLite")}: {name}",-58} {rate,12:N0} {bytes / (double)written,14:N0}"));
            }
        }

        await StagingAsync(output, server, seconds, explainer.Metadata.Channels.Count, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cluster mode's staged input: <see cref="StagedInput.StageAsync"/> (one binary COPY per call) with rows of one machine's samples of one message each, as the bench's gateways send them.</summary>
    private static async Task StagingAsync(TextWriter output, PostgresProcess server, double seconds, int channels, CancellationToken cancellationToken)
    {
        const int samplesPerMessage = 10;
        string connection = server.ConnectionString("staging");
        await server.CreateDatabaseAsync("staging", cancellationToken).ConfigureAwait(false);
        await using (var source = Npgsql.NpgsqlDataSource.Create(connection))
        {
            using var stream = typeof(StagedInput).Assembly.GetManifestResourceStream("cluster/cluster_tables_postgres.sql")
                ?? throw new InvalidOperationException("The resource cluster/cluster_tables_postgres.sql is not in the monitor's assembly.");
            using var reader = new StreamReader(stream);
            await using var command = source.CreateCommand(await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var options = Options.Create(new MonitorOptions());
        options.Value.History.ConnectionString = connection;
        options.Value.Cluster.ClusterId = "bench";
        options.Value.Cluster.NodeName = "node1";
        using var database = new ClusterDatabase(options);
        using var staged = new StagedInput(database, options, new ClusterMetrics(Prometheus.Metrics.NewCustomRegistry()), TimeProvider.System, NullLogger<StagedInput>.Instance);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{$"cluster staged input (COPY, rows of {samplesPerMessage} samples x {channels} channels)",-58} {"rows/s",12} {"samples/s",14}"));
        long origin = DateTimeOffset.UtcNow.UtcTicks;
        foreach (int rowsPerCopy in new[] { 1, 16, 256 })
        {
            long rows = 0;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed.TotalSeconds < seconds)
            {
                var batch = new List<MachineSamples>(rowsPerCopy);
                for (int r = 0; r < rowsPerCopy; r++, rows++)
                {
                    long first = origin + (rows * samplesPerMessage * TimeSpan.TicksPerMillisecond);
                    batch.Add(new MachineSamples(string.Create(CultureInfo.InvariantCulture, $"bench/b{rows % Machines}"), "plant/bench/telemetry",
                        [.. Enumerable.Range(0, samplesPerMessage).Select(k => first + (k * TimeSpan.TicksPerMillisecond))],
                        [.. Enumerable.Range(0, samplesPerMessage * channels).Select(k => (float)k)], channels, false));
                }

                await staged.StageAsync(batch, cancellationToken).ConfigureAwait(false);
            }

            double rate = rows / watch.Elapsed.TotalSeconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{$"{rowsPerCopy} row{(rowsPerCopy == 1 ? string.Empty : "s")} (messages) per COPY",-58} {rate,12:N0} {rate * samplesPerMessage,14:N0}"));
        }
    }

    private const int Machines = 40;

    /// <summary>The checkpoints a live batch carries: one per machine its windows came from, a window's worth of buffered samples each.</summary>
    private static List<WindowCheckpoint> Checkpoints(int batchNumber, int channels, int length)
        => [.. Enumerable.Range(0, Machines).Select(m => new WindowCheckpoint(
            $"m{m}",
            [.. Enumerable.Range(0, length - 1).Select(k => DateTimeOffset.UnixEpoch.AddYears(56).AddMilliseconds(((batchNumber * 1000L) + k) * 100))],
            new float[(length - 1) * channels],
            3,
            batchNumber))];

    private static List<WindowRecord> Batch(Explainer explainer, IReadOnlyList<WindowExplanation> explanations, byte[][] payloads, float[] windows, int size, int batchNumber, double share)
    {
        int channels = explainer.Metadata.Channels.Count;
        int length = explainer.Metadata.WindowLength;
        var batch = new List<WindowRecord>(size);
        for (int i = 0; i < size; i++)
        {
            var e = explanations[i];
            long n = (batchNumber * (long)size) + i;
            var end = DateTimeOffset.UnixEpoch.AddYears(56).AddMilliseconds(n * 100);
            batch.Add(new WindowRecord
            {
                Id = string.Create(CultureInfo.InvariantCulture, $"m{i % Machines}:{end:yyyy-MM-ddTHH:mm:ss.fffZ}:anomaly-cnn/1.0.0"),
                Machine = $"m{i % Machines}",
                ModelVersion = "anomaly-cnn 1.0.0",
                WindowStart = end.AddSeconds(-5),
                WindowEnd = end,
                Score = e.Score,
                Decision = e.Score >= 0.5f,
                ReasonCode = e.Score >= 0.5f ? "anomaly" : "normal",
                ChannelContributions = explainer.Metadata.Channels.Select((c, k) => (c, k)).ToDictionary(p => p.c, p => e.ChannelContributions[p.k]),
                DominantChannel = explainer.Metadata.Channels[Array.IndexOf(e.ChannelContributions, e.ChannelContributions.Max())],
                TopStepChannel = e.TopSteps[0].ChannelName,
                TopStep = e.TopSteps[0].Step,
                TopFilters = e.Layers.SelectMany(l => l.Ranking.Take(3).Select(f => new InfluentialFilter(l.Name, f, l.Influence[f], l.Scaled[f]))).ToList(),
                ScoreAfterFgsm = e.Score,
                Detail = share > 0 && (n % (long)Math.Round(1 / share)) == 0
                    ? new WindowDetail(payloads[i], windows.AsSpan(i * channels * length, channels * length).ToArray(), channels, length)
                    : null,
            });
        }

        return batch;
    }
}
