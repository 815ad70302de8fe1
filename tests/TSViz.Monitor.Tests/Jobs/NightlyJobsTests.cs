using System.Net.Http.Json;
using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Monitor.Jobs;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Monitor.Tests.Cli;
using TSViz.Monitor.Tests.Live;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Jobs;

/// <summary>The nightly Quartz jobs in the running monitor: a real SQLite history file, the real HTTP API and MQTT broker.</summary>
public sealed class NightlyJobsTests
{
    [Fact]
    public async Task Analysis_TriggeredOnLiveWindows_StoresClustersAndCandidates_PublishesTheSummary_AndASecondStartKeepsTheSchedule()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(240));
        string[] layers;
        await using (var monitor = await JobsTestMonitor.StartAsync(database, simulator: true, cancel.Token, new Dictionary<string, string?>
        {
            ["Monitor:History:FullExplanationSampleRate"] = "1", // every window's input kept, so the analysis has data after seconds
            ["Monitor:Jobs:AnalysisMaxWindows"] = "96",
        }))
        {
            layers = monitor.App.Services.GetRequiredService<LiveModel>().Explainer.Layers.Select(l => l.Name).ToArray();
            var received = new ConcurrentQueue<(string Topic, JsonElement Body, bool Retain)>();
            using var observer = new MqttClientFactory().CreateMqttClient();
            observer.ApplicationMessageReceivedAsync += e =>
            {
                received.Enqueue((e.ApplicationMessage.Topic, JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray()).RootElement.Clone(), e.ApplicationMessage.Retain));
                return Task.CompletedTask;
            };
            await MqttTestClients.ConnectWithRetry(observer, new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", monitor.MqttPort).WithClientId($"jobs-observer-{monitor.MqttPort.ToString(CultureInfo.InvariantCulture)}").Build(), cancel.Token);
            await observer.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("tsviz/v1/model/+/analysis", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancel.Token);

            // Before any run: every job listed with its cron and next fire time, never run; the run counters exported at 0.
            var analysisJob = await monitor.JobAsync("analysis", cancel.Token);
            Assert.Equal("0 0 2 * * ?", analysisJob.GetProperty("cron").GetString());
            Assert.True(analysisJob.GetProperty("nextFireTime").GetDateTimeOffset() > DateTimeOffset.UtcNow);
            Assert.Equal(JsonValueKind.Null, analysisJob.GetProperty("lastRun").ValueKind);
            Assert.Equal("never_run", (await monitor.GetAsync("/health", cancel.Token)).GetProperty("jobs").GetProperty("analysis").GetProperty("status").GetString());
            Assert.Contains("tsviz_job_runs_total{job=\"analysis\",outcome=\"failed\"} 0", await monitor.MetricsAsync(cancel.Token), StringComparison.Ordinal);

            // Live windows stored in full.
            while ((await monitor.GetAsync("/api/windows?hasDetail=true&limit=100", cancel.Token)).GetProperty("items").GetArrayLength() < 96)
            {
                await Task.Delay(500, cancel.Token);
            }

            var run = await monitor.RunJobAsync("analysis", cancel.Token);
            Assert.True(run.GetProperty("outcome").GetString() == "succeeded", run.GetRawText());
            Assert.True(run.GetProperty("manual").GetBoolean());

            // The stored result: per conv layer of the shipped model its clusters, dead filters and candidates; the faithfulness table.
            var analyses = (await monitor.GetAsync("/api/analyses?job=analysis&limit=5", cancel.Token)).GetProperty("items");
            var record = Assert.Single(analyses.EnumerateArray());
            Assert.Equal(96, record.GetProperty("windows").GetInt32());
            var summary = record.GetProperty("summary");
            Assert.Equal(layers, summary.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("layer").GetString()));
            foreach (var layer in summary.GetProperty("layers").EnumerateArray())
            {
                int filters = layer.GetProperty("filters").GetInt32();
                int k = layer.GetProperty("k").GetInt32();
                Assert.InRange(k, 1, filters);
                Assert.Equal(filters, layer.GetProperty("clusterSizes").EnumerateArray().Sum(s => s.GetInt32()));
                Assert.Equal(k, layer.GetProperty("representatives").GetArrayLength());
                Assert.Equal(filters, layer.GetProperty("meanInfluence").GetArrayLength());
                // every filter's cluster, agreeing with the sizes; the silhouette curve peaks at the chosen k
                var labels = layer.GetProperty("labels").EnumerateArray().Select(l => l.GetInt32()).ToList();
                Assert.Equal(filters, labels.Count);
                Assert.Equal(layer.GetProperty("clusterSizes").EnumerateArray().Select(s => s.GetInt32()), Enumerable.Range(0, k).Select(c => labels.Count(l => l == c)));
                var silhouette = layer.GetProperty("silhouetteByK").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble()).ToList();
                Assert.Equal(filters - 2, silhouette.Count);
                Assert.Equal(silhouette.Where(double.IsFinite).Max(), silhouette[k - 2]);
                Assert.Equal(layer.GetProperty("silhouette").GetDouble(), silhouette[k - 2]);
                Assert.All(layer.GetProperty("deadFilters").EnumerateArray(), f => Assert.InRange(f.GetInt32(), 0, filters - 1));
            }

            var candidates = summary.GetProperty("candidates").EnumerateArray().ToList();
            Assert.Equal(10, candidates.Count);
            // Ranked by the default criterion, least contributing first; the influence is still reported.
            Assert.Equal("contribution", summary.GetProperty("pruningCriterion").GetString());
            var scaled = candidates.Select(c => c.GetProperty("scaledContribution").GetDouble()).ToList();
            Assert.Equal(scaled.Order(), scaled);
            Assert.All(candidates, c => Assert.True(c.TryGetProperty("scaledInfluence", out _) && c.TryGetProperty("meanContribution", out _)));
            var faithfulness = summary.GetProperty("faithfulness").EnumerateArray().ToList();
            Assert.Equal(1 + 2 * layers.Length, faithfulness.Count);

            // The compact summary, retained, on the model's analysis topic.
            while (received.IsEmpty)
            {
                await Task.Delay(100, cancel.Token);
            }

            var (topic, digest, _) = received.First();
            Assert.Equal($"tsviz/v1/model/{summary.GetProperty("model").GetString()}/analysis", topic);
            Assert.Equal(record.GetProperty("id").GetInt64(), digest.GetProperty("analysisId").GetInt64());
            Assert.Equal(layers.Length, digest.GetProperty("layers").GetArrayLength());
            Assert.Equal(5, digest.GetProperty("topCandidates").GetArrayLength());
            Assert.Equal("contribution", digest.GetProperty("pruningCriterion").GetString());
            using (var late = new MqttClientFactory().CreateMqttClient())
            {
                var retained = new TaskCompletionSource<bool>();
                late.ApplicationMessageReceivedAsync += e =>
                {
                    retained.TrySetResult(e.ApplicationMessage.Retain);
                    return Task.CompletedTask;
                };
                await MqttTestClients.ConnectWithRetry(late, new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", monitor.MqttPort).WithClientId($"jobs-late-{monitor.MqttPort.ToString(CultureInfo.InvariantCulture)}").Build(), cancel.Token);
                await late.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce, cancel.Token);
                Assert.True(await retained.Task.WaitAsync(TimeSpan.FromSeconds(10), cancel.Token));
            }

            string metrics = await monitor.MetricsAsync(cancel.Token);
            Assert.Contains("tsviz_job_runs_total{job=\"analysis\",outcome=\"succeeded\"} 1", metrics, StringComparison.Ordinal);
            Assert.Contains("tsviz_job_last_success_timestamp_seconds{job=\"analysis\"}", metrics, StringComparison.Ordinal);
            Assert.Contains("tsviz_job_last_duration_seconds{job=\"analysis\"}", metrics, StringComparison.Ordinal);
            foreach (string layer in layers)
            {
                Assert.Contains($"tsviz_analysis_clusters{{layer=\"{layer}\"}}", metrics, StringComparison.Ordinal);
                Assert.Contains($"tsviz_pruning_candidates{{layer=\"{layer}\"}}", metrics, StringComparison.Ordinal);
                Assert.Contains($"tsviz_dead_filters{{layer=\"{layer}\"}}", metrics, StringComparison.Ordinal);
            }

            var health = await monitor.GetAsync("/health", cancel.Token);
            Assert.Equal("succeeded", health.GetProperty("jobs").GetProperty("analysis").GetProperty("status").GetString());
            Assert.Equal("healthy", health.GetProperty("status").GetString());
        }

        // Quartz's tables live in the history file, with one job and one cron trigger per job.
        Assert.Equal(NightlyJobs.All.Count, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM QRTZ_JOB_DETAILS WHERE JOB_GROUP = 'tsviz' AND IS_NONCONCURRENT = 1 AND IS_DURABLE = 1"));
        Assert.Equal(NightlyJobs.All.Count, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM QRTZ_CRON_TRIGGERS WHERE TRIGGER_GROUP = 'tsviz'"));
        Assert.Equal(1, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM analyses"));

        // A second start on the same file finds the jobs (nothing duplicated) and the last run.
        await using (var again = await JobsTestMonitor.StartAsync(database, simulator: false, cancel.Token))
        {
            var job = await again.JobAsync("analysis", cancel.Token);
            Assert.Equal("0 0 2 * * ?", job.GetProperty("cron").GetString());
            Assert.Equal("succeeded", job.GetProperty("lastRun").GetProperty("outcome").GetString());
            Assert.Contains("tsviz_job_last_success_timestamp_seconds{job=\"analysis\"}", await again.MetricsAsync(cancel.Token), StringComparison.Ordinal);
        }

        Assert.Equal(NightlyJobs.All.Count, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM QRTZ_JOB_DETAILS WHERE JOB_GROUP = 'tsviz'"));
        Assert.Equal(NightlyJobs.All.Count, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM QRTZ_TRIGGERS WHERE TRIGGER_GROUP = 'tsviz'"));
    }

    [Fact]
    public async Task Analysis_CorruptStoredWindow_RecordsFailedWithTheReason_AndTheMonitorKeepsRunning()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var stored = await JobsTestMonitor.StoreWindowsAsync(database, 24, DateTimeOffset.UtcNow, "m9", cancel.Token);
        // Damage one stored input: 5 bytes where channels x steps float32 values were written.
        string corrupt = stored[3].Id;
        Assert.Equal(1, JobsTestMonitor.Scalar(database, $"UPDATE window_details SET input = x'0102030405' WHERE id = '{corrupt}'; SELECT changes();"));

        await using var monitor = await JobsTestMonitor.StartAsync(database, simulator: false, cancel.Token);
        var run = await monitor.RunJobAsync("analysis", cancel.Token);
        Assert.Equal("failed", run.GetProperty("outcome").GetString());
        string error = run.GetProperty("error").GetString()!;
        Assert.Contains(corrupt, error, StringComparison.Ordinal);
        Assert.Contains("corrupt", error, StringComparison.Ordinal);

        using var healthResponse = await monitor.Http.GetAsync(new Uri("/health", UriKind.Relative), cancel.Token);
        Assert.Equal(HttpStatusCode.OK, healthResponse.StatusCode); // a failed job is reported, not an unhealthy monitor
        var health = JsonDocument.Parse(await healthResponse.Content.ReadAsStringAsync(cancel.Token)).RootElement;
        Assert.Equal("failed", health.GetProperty("jobs").GetProperty("analysis").GetProperty("status").GetString());
        Assert.Equal(error, health.GetProperty("jobs").GetProperty("analysis").GetProperty("error").GetString());
        var checks = health.GetProperty("checks");
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Equal("degraded", checks.GetProperty("jobs").GetProperty("status").GetString());
        Assert.Contains("analysis", checks.GetProperty("jobs").GetProperty("description").GetString(), StringComparison.Ordinal);
        foreach (string check in (string[])["broker", "stages", "history"])
        {
            Assert.Equal("healthy", checks.GetProperty(check).GetProperty("status").GetString());
        }
        Assert.Contains("tsviz_job_runs_total{job=\"analysis\",outcome=\"failed\"} 1", await monitor.MetricsAsync(cancel.Token), StringComparison.Ordinal);
        Assert.Equal(1, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM job_runs WHERE job = 'analysis' AND outcome = 'failed'"));

        // Still scheduled, and the next run (the damage removed) succeeds.
        Assert.NotEqual(JsonValueKind.Null, (await monitor.JobAsync("analysis", cancel.Token)).GetProperty("nextFireTime").ValueKind);
        JobsTestMonitor.Scalar(database, $"DELETE FROM window_details WHERE id = '{corrupt}'; SELECT changes();");
        var second = await monitor.RunJobAsync("analysis", cancel.Token);
        Assert.True(second.GetProperty("outcome").GetString() == "succeeded", second.GetRawText());
        Assert.Equal("succeeded", (await monitor.GetAsync("/health", cancel.Token)).GetProperty("jobs").GetProperty("analysis").GetProperty("status").GetString());

        // An unknown job is a 404 problem naming it.
        using var unknown = await monitor.Http.PostAsJsonAsync(new Uri("/api/jobs/nightly/trigger", UriKind.Relative), new { }, cancel.Token);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Contains("'nightly'", await unknown.Content.ReadAsStringAsync(cancel.Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retention_Triggered_DeletesOldRecordsAndCountsThem_AndAnalysisWithTooFewWindowsIsSkipped()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var now = DateTimeOffset.UtcNow;
        await JobsTestMonitor.StoreWindowsAsync(database, 5, now.AddDays(-40), "old", cancel.Token);
        await JobsTestMonitor.StoreWindowsAsync(database, 3, now, "new", cancel.Token);
        var store = new SqliteHistoryStore(database);
        await store.SaveAnalysisAsync("analysis", "anomaly-cnn", "1", now.AddDays(-100), 10, "{}", cancel.Token);

        await using var monitor = await JobsTestMonitor.StartAsync(database, simulator: false, cancel.Token);
        // Three recent windows: too few to analyse, a skip with its reason rather than a failure.
        var skipped = await monitor.RunJobAsync("analysis", cancel.Token);
        Assert.Equal("skipped", skipped.GetProperty("outcome").GetString());
        Assert.Contains("at least 8", skipped.GetProperty("error").GetString(), StringComparison.Ordinal);

        var run = await monitor.RunJobAsync("retention", cancel.Token);
        Assert.True(run.GetProperty("outcome").GetString() == "succeeded", run.GetRawText());
        Assert.Contains("deleted 5 windows", run.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var left = await store.QueryWindowsAsync(new WindowQuery { Limit = 100 }, cancel.Token);
        Assert.All(left.Items, w => Assert.Equal("new", w.Machine));
        Assert.Equal(3, left.Items.Count);
        Assert.Empty(await store.AnalysesAsync(null, 10, cancel.Token));

        string metrics = await monitor.MetricsAsync(cancel.Token);
        Assert.Contains("tsviz_retention_deleted_total{kind=\"windows\"} 5", metrics, StringComparison.Ordinal);
        Assert.Contains("tsviz_retention_deleted_total{kind=\"analyses\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("tsviz_job_runs_total{job=\"retention\",outcome=\"succeeded\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("tsviz_job_runs_total{job=\"analysis\",outcome=\"skipped\"} 1", metrics, StringComparison.Ordinal);

        // The jobs verb against the running monitor.
        string url = monitor.Http.BaseAddress!.ToString().TrimEnd('/');
        var list = await VerbRunner.Run("jobs", "list", "--url", url);
        Assert.True(list.Exit == 0, list.Error);
        Assert.Contains("retention: cron 0 30 2 * * ?", list.Output, StringComparison.Ordinal);
        Assert.Contains("last run succeeded", list.Output, StringComparison.Ordinal);
        var trigger = await VerbRunner.Run("jobs", "trigger", "retention", "--url", url, "--wait");
        Assert.True(trigger.Exit == 0, trigger.Error);
        Assert.Contains("deleted 0 windows", trigger.Output, StringComparison.Ordinal);
        var unknown = await VerbRunner.Run("jobs", "trigger", "nightly", "--url", url);
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("no job 'nightly'", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_AfterMissedNights_FiresTheMissedJobOnceThenFollowsTheCron()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using (var first = await JobsTestMonitor.StartAsync(database, simulator: false, cancel.Token))
        {
            Assert.Equal(JsonValueKind.Null, (await first.JobAsync("retention", cancel.Token)).GetProperty("lastRun").ValueKind);
        }

        // The monitor "was down" for the last three 02:30 runs: the stored next fire time lies three days back (ticks).
        JobsTestMonitor.Scalar(database, $"UPDATE QRTZ_TRIGGERS SET NEXT_FIRE_TIME = NEXT_FIRE_TIME - {TimeSpan.FromDays(3).Ticks.ToString(CultureInfo.InvariantCulture)} WHERE TRIGGER_NAME = 'retention'; SELECT changes();");
        await using var again = await JobsTestMonitor.StartAsync(database, simulator: false, cancel.Token);
        JsonElement job;
        do
        {
            await Task.Delay(200, cancel.Token);
            job = await again.JobAsync("retention", cancel.Token);
        }
        while (job.GetProperty("lastRun").ValueKind != JsonValueKind.Object);

        Assert.Equal("succeeded", job.GetProperty("lastRun").GetProperty("outcome").GetString());
        Assert.False(job.GetProperty("lastRun").GetProperty("manual").GetBoolean());
        await Task.Delay(2000, cancel.Token);
        Assert.Equal(1, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM job_runs WHERE job = 'retention'")); // once, not once per missed night
        Assert.True((await again.JobAsync("retention", cancel.Token)).GetProperty("nextFireTime").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.Equal(JsonValueKind.Null, (await again.JobAsync("analysis", cancel.Token)).GetProperty("lastRun").ValueKind);
    }

    [Fact]
    public async Task QuartzSchema_TablesOfAnOlderQuartz_StopsNamingTheMissingColumns()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        string connection = TSViz.Monitor.Jobs.NightlyJobs.ConnectionString(database);
        await TSViz.Monitor.Jobs.QuartzSchema.EnsureAsync(connection, CancellationToken.None);
        await TSViz.Monitor.Jobs.QuartzSchema.EnsureAsync(connection, CancellationToken.None); // idempotent
        Assert.Equal(0, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM QRTZ_TRIGGERS"));

        // A 3.x-era trigger table: no retry, continuation, overlap, pause or 4.6+ columns.
        string old = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        JobsTestMonitor.Scalar(old, "CREATE TABLE QRTZ_TRIGGERS (SCHED_NAME TEXT, TRIGGER_NAME TEXT, TRIGGER_GROUP TEXT, JOB_NAME TEXT, JOB_GROUP TEXT, DESCRIPTION TEXT, NEXT_FIRE_TIME BIGINT, PREV_FIRE_TIME BIGINT, PRIORITY INTEGER, TRIGGER_STATE TEXT, TRIGGER_TYPE TEXT, START_TIME BIGINT, END_TIME BIGINT, CALENDAR_NAME TEXT, MISFIRE_INSTR INTEGER, JOB_DATA BLOB); SELECT 0;");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TSViz.Monitor.Jobs.QuartzSchema.EnsureAsync(TSViz.Monitor.Jobs.NightlyJobs.ConnectionString(old), CancellationToken.None));
        Assert.Contains("QRTZ_TRIGGERS.RETRY_POLICY", error.Message, StringComparison.Ordinal);
        Assert.Contains("QRTZ_TRIGGERS.FIXED_DELAY", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("QRTZ_TRIGGERS.CALENDAR_NAME", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuartzSchema_EmbeddedScripts_CreateEveryQuartzTableIndexAndTriggerAndJobRuns()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        await TSViz.Monitor.Jobs.QuartzSchema.EnsureAsync(TSViz.Monitor.Jobs.NightlyJobs.ConnectionString(database), CancellationToken.None);

        Assert.Equal(12, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'QRTZ~_%' ESCAPE '~'"));
        Assert.Equal(8, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'IDX~_QRTZ~_%' ESCAPE '~'"));
        Assert.Equal(1, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'QRTZ_TRIGGERS_DELETE_SCHEDULE'"));
        Assert.Equal(10, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM pragma_table_info('job_runs')"));
    }

    [Fact]
    public async Task Start_UnknownPruningCriterion_StopsStartUpNamingTheKeyAndTheChoices()
    {
        await using var app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{Loopback.FreePort().ToString(CultureInfo.InvariantCulture)}",
            ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
            ["Monitor:Jobs:PruningCriterion"] = "gradient",
        });
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains(error.Failures, f => f.Contains("Monitor:Jobs:PruningCriterion must be one of influence, contribution", StringComparison.Ordinal) && f.Contains("'gradient'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Monitor:Jobs:AnalysisCron", "every night")]
    [InlineData("Monitor:Jobs:RetentionCron", "0 61 2 * * ?")]
    public async Task Start_InvalidCron_StopsStartUpNamingTheKey(string key, string cron)
    {
        await using var app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{Loopback.FreePort().ToString(CultureInfo.InvariantCulture)}",
            ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
            [key] = cron,
        });
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains(error.Failures, f => f.Contains(key, StringComparison.Ordinal) && f.Contains(cron, StringComparison.Ordinal));
    }
}
