using System.Globalization;
using Microsoft.Data.Sqlite;
using TSViz.Tests.Shared;
using Xunit.Abstractions;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// kill -9 at any moment loses no window the broker still holds: the monitor, as its own process on a persistent
/// Mosquitto (config/mosquitto/plant.conf), is killed with SIGKILL at several points of multi-machine QoS 1 streams
/// and started again; every expected window ends up in the history exactly once.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const int Hop = 10;
    private const int Machines = 3;
    private const int Samples = 1200;

    [Fact]
    public async Task Run_KilledWithSigkillMidStream_EveryWindowIsStoredExactlyOnce()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await using var broker = await MosquittoBroker.StartAsync();
        string work = RepositoryPaths.NewTempDirectory();
        string database = Path.Combine(work, "history.db");
        var settings = new Dictionary<string, string>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:History:Path"] = database,
            ["Monitor:Mqtt:EmbeddedBroker"] = "false",
            ["Monitor:Mqtt:Port"] = broker.Port.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Mqtt:ClientId"] = $"tsviz-crash-{broker.Port}",
            ["Monitor:Simulator:Enabled"] = "false",
            ["Monitor:Jobs:Enabled"] = "false",
            ["Monitor:WarmUp"] = "false",
            ["Monitor:MaxGapSeconds"] = "60",
            ["Monitor:Hop"] = Hop.ToString(CultureInfo.InvariantCulture),
        };

        var monitor = MonitorProcess.Start(settings, work);
        int length = 0;
        try
        {
            await monitor.WaitHealthyAsync(cancel.Token);
            length = WindowLength();
            var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-30));
            await using var publisher = await SamplePublisher.ConnectAsync(broker.Port, cancel.Token);

            // The gateways keep publishing (about 400 messages/s in all) while the monitor is killed and restarted.
            var publishing = Task.Run(async () =>
            {
                for (int i = 0; i < Samples; i++)
                {
                    for (int m = 1; m <= Machines; m++)
                    {
                        await publisher.PublishAsync($"plant/line1/m{m}/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i + (37 * m)), cancel.Token);
                    }

                    if (i % 20 == 0)
                    {
                        await Task.Delay(150, cancel.Token);
                    }
                }
            }, cancel.Token);

            // Killed at several points: mid-stream after a few seconds, again soon after restarting (while the
            // redelivered backlog is being worked off), and once more late in the stream.
            foreach (var after in new[] { 2.5, 1.5, 3.0 })
            {
                await Task.Delay(TimeSpan.FromSeconds(after), cancel.Token);
                await monitor.KillAsync();
                await monitor.DisposeAsync();
                monitor = MonitorProcess.Start(settings, work);
                await monitor.WaitHealthyAsync(cancel.Token);
            }

            await publishing;
            var expected = Enumerable.Range(1, Machines).SelectMany(m => Enumerable.Range(0, ((Samples - length) / Hop) + 1)
                .Select(k => ($"line1/m{m}", start.AddMilliseconds(100 * (length - 1 + (k * Hop))).ToUnixTimeMilliseconds()))).ToHashSet();
            List<(string Machine, long End)> stored = [];
            // Everything expected is stored, or nothing more arrives for 15 s (windows were lost).
            var quietSince = DateTime.UtcNow;
            while (true)
            {
                int before = stored.Count;
                stored = StoredWindows(database);
                quietSince = stored.Count != before ? DateTime.UtcNow : quietSince;
                if (stored.Count >= expected.Count || DateTime.UtcNow - quietSince > TimeSpan.FromSeconds(15))
                {
                    break;
                }

                await Task.Delay(250, cancel.Token);
            }

            Assert.Equal(0, await monitor.TerminateAsync(cancel.Token));
            stored = StoredWindows(database);
            var missing = expected.Except(stored).ToList();
            var duplicated = stored.GroupBy(w => w).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            var unexpected = stored.Except(expected).ToList();
            output.WriteLine($"SIGKILL x3 during {Machines} machines x {Samples} samples at QoS 1: expected {expected.Count}, stored {stored.Distinct().Count()}, lost {missing.Count}, duplicated {duplicated.Count}");
            Assert.True(missing.Count == 0 && duplicated.Count == 0 && unexpected.Count == 0,
                $"expected {expected.Count}, stored {stored.Count}: missing {missing.Count}, duplicated {duplicated.Count}, unexpected {unexpected.Count}\n{monitor.Log}");
        }
        finally
        {
            await monitor.DisposeAsync();
        }

        int WindowLength()
        {
            using var scorer = TSViz.Plugins.Scoring.OnnxRuntimeScorer.Open(RepositoryPaths.AnomalyModel);
            return scorer.Metadata.WindowLength;
        }
    }

    /// <summary>Every scored window in the history (machine, window end in Unix ms); gap notices have no score.</summary>
    private static List<(string Machine, long End)> StoredWindows(string database)
    {
        if (!File.Exists(database))
        {
            return [];
        }

        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT machine, window_end FROM windows WHERE score IS NOT NULL";
        using var reader = command.ExecuteReader();
        var rows = new List<(string, long)>();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return rows;
    }
}
