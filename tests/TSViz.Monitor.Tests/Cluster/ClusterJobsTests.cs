using System.Diagnostics;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using TSViz.Monitor.Tests.Live;
using TSViz.Tests.Shared;
using Xunit.Abstractions;

namespace TSViz.Monitor.Tests.Cluster;

/// <summary>
/// The nightly analysis in a cluster: two nodes as their own processes share Quartz's clustered store in PostgreSQL.
/// The analysis fires once; the node that runs it is killed (SIGKILL) in the middle of the run; the other node runs it
/// again (Quartz's recovery of a dead node's runs), and the cluster ends with exactly one recorded run and one stored
/// analysis for that fire.
/// </summary>
[Collection(SharedPostgresServer.Name)]
public sealed class ClusterJobsTests(PostgresServer server, ITestOutputHelper output)
{
    /// <summary>Stored input windows the analysis goes through: enough for a run of seconds on this machine.</summary>
    private const int Windows = 1000;

    [Fact]
    public async Task Analysis_NodeKilledDuringTheRun_AnotherNodeRunsItAndOneRunIsRecorded()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        string connection = await server.CreateDatabaseAsync();
        await using var broker = await MosquittoBroker.StartAsync();
        var nodes = new List<MonitorProcess>();
        try
        {
            // Fires once, about 40 s from now (two node processes start meanwhile, on 2 cores shared with the rest of the
            // suite: 25 s was once not enough under CI load); a daily cron, so no second fire comes.
            var fire = DateTime.UtcNow.AddSeconds(40);
            string cron = string.Create(CultureInfo.InvariantCulture, $"{fire.Second} {fire.Minute} {fire.Hour} * * ?");
            for (int n = 1; n <= 2; n++)
            {
                var settings = ClusterModeTests.NodeSettings(broker.Port, connection, $"n{n}");
                settings["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel;
                settings["Monitor:Mqtt:EmbeddedBroker"] = "false";
                settings["Monitor:Mqtt:Port"] = broker.Port.ToString(CultureInfo.InvariantCulture);
                settings["Monitor:WarmUp"] = "false";
                settings["Monitor:Jobs:Enabled"] = "true";
                settings["Monitor:Jobs:AnalysisCron"] = cron;
                settings["Monitor:Jobs:AnalysisMaxWindows"] = Windows.ToString(CultureInfo.InvariantCulture);
                settings["Monitor:Jobs:RetentionCron"] = "0 0 0 1 1 ? 2099";
                nodes.Add(MonitorProcess.Start(settings.ToDictionary(s => s.Key, s => s.Value!), RepositoryPaths.Root,
                    new Dictionary<string, string> { ["TSVIZ_Logging__LogLevel__TSViz.Monitor"] = "Information" }));
            }

            foreach (var node in nodes)
            {
                await node.WaitHealthyAsync(cancel.Token);
            }

            await StoreInputWindowsAsync(connection);
            Assert.True(DateTime.UtcNow < fire, "the nodes took too long to start: the fire time passed before the windows were stored");

            // The node running it, named by Quartz's fired trigger (the scheduler's instance id is the node's name).
            string? runner = null;
            while (runner is null)
            {
                cancel.Token.ThrowIfCancellationRequested();
                runner = await ClusterModeTests.Text(connection, "SELECT instance_name FROM qrtz_fired_triggers WHERE job_name = 'analysis' AND state = 'EXECUTING'");
                await Task.Delay(50, cancel.Token);
            }

            var killed = nodes[runner == "n1" ? 0 : 1];
            var survivor = nodes[runner == "n1" ? 1 : 0];
            await Task.Delay(500, cancel.Token);
            Assert.Equal(0, await Count(connection, "SELECT COUNT(*) FROM job_runs WHERE job = 'analysis'")); // still running
            var clock = Stopwatch.StartNew();
            await killed.KillAsync();
            output.WriteLine($"{runner} killed during the run; the other node must run it again");

            while (await Count(connection, "SELECT COUNT(*) FROM job_runs WHERE job = 'analysis'") == 0)
            {
                Assert.False(cancel.IsCancellationRequested, "no node recorded the analysis after the kill:\n" + survivor.Log);
                await Task.Delay(250, CancellationToken.None);
            }

            output.WriteLine($"recovered and finished {clock.Elapsed.TotalSeconds:F1} s after the kill");
            await Task.Delay(NightlyJobsCheckin(), cancel.Token); // room for a second run, if one were coming
            Assert.Equal(1, await Count(connection, "SELECT COUNT(*) FROM job_runs WHERE job = 'analysis'"));
            Assert.Equal("succeeded", await ClusterModeTests.Text(connection, "SELECT outcome FROM job_runs WHERE job = 'analysis'"));
            Assert.Equal(1, await Count(connection, "SELECT COUNT(*) FROM analyses WHERE job = 'analysis'"));
            Assert.Contains("Job analysis succeeded", survivor.Log, StringComparison.Ordinal);
            output.WriteLine(string.Join('\n', survivor.Log.Split('\n').Where(l => l.Contains("Job analysis", StringComparison.Ordinal))));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.KillAsync();
                await node.DisposeAsync();
            }
        }
    }

    private static TimeSpan NightlyJobsCheckin() => TSViz.Monitor.Jobs.NightlyJobs.ClusterCheckin;

    /// <summary>Stores <see cref="Windows"/> windows of the last hour with their input, as the live path stores detailed windows.</summary>
    private static async Task StoreInputWindowsAsync(string connection)
    {
        var metadata = TSViz.Explain.Onnx.OnnxModelFile.Load(RepositoryPaths.AnomalyModel).Metadata;
        int channels = metadata.Channels.Count, length = metadata.WindowLength;
        var random = new Random(7);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using var database = NpgsqlDataSource.Create(connection);
        await using var db = await database.OpenConnectionAsync();
        await using (var copy = await db.BeginBinaryImportAsync(
            "COPY windows (id, machine, model_version, window_start, window_end, score, reason_code, contributions, top_filters, has_detail) FROM STDIN (FORMAT BINARY)"))
        {
            for (int w = 0; w < Windows; w++)
            {
                long end = now - 1000L * (Windows - w);
                await copy.StartRowAsync();
                await copy.WriteAsync($"w{w}", NpgsqlDbType.Text);
                await copy.WriteAsync($"line1/m{w % 10}", NpgsqlDbType.Text);
                await copy.WriteAsync(metadata.Version, NpgsqlDbType.Text);
                await copy.WriteAsync(end - 1000, NpgsqlDbType.Bigint);
                await copy.WriteAsync(end, NpgsqlDbType.Bigint);
                await copy.WriteAsync(random.NextDouble(), NpgsqlDbType.Double);
                await copy.WriteAsync("scored", NpgsqlDbType.Text);
                await copy.WriteAsync("{}", NpgsqlDbType.Jsonb);
                await copy.WriteAsync("[]", NpgsqlDbType.Jsonb);
                await copy.WriteAsync(true, NpgsqlDbType.Boolean);
            }

            await copy.CompleteAsync();
        }

        await using (var copy = await db.BeginBinaryImportAsync("COPY window_details (id, window_end, explanation, input, channels, length) FROM STDIN (FORMAT BINARY)"))
        {
            for (int w = 0; w < Windows; w++)
            {
                var input = new byte[channels * length * sizeof(float)];
                double phase = random.NextDouble() * Math.PI * 2, amplitude = 1 + (w % 4);
                for (int i = 0; i < channels * length; i++)
                {
                    BitConverter.TryWriteBytes(input.AsSpan(i * sizeof(float)), (float)(amplitude * Math.Sin(phase + (i % length) * 0.2) + random.NextDouble() * 0.1));
                }

                await copy.StartRowAsync();
                await copy.WriteAsync($"w{w}", NpgsqlDbType.Text);
                await copy.WriteAsync(now - 1000L * (Windows - w), NpgsqlDbType.Bigint);
                await copy.WriteAsync(Array.Empty<byte>(), NpgsqlDbType.Bytea);
                await copy.WriteAsync(input, NpgsqlDbType.Bytea);
                await copy.WriteAsync(channels, NpgsqlDbType.Integer);
                await copy.WriteAsync(length, NpgsqlDbType.Integer);
            }

            await copy.CompleteAsync();
        }
    }

    private static async Task<long> Count(string connection, string sql) => await ClusterModeTests.Scalar(connection, sql);
}
