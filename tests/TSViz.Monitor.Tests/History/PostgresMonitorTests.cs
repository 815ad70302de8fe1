using System.Text.Json;
using Npgsql;
using TSViz.Monitor.Tests.Jobs;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.History;

/// <summary>
/// The monitor on a real PostgreSQL 15 (History:Provider postgres): the live path stores there, the API reads from
/// there, Quartz keeps its schedule there clustered, and the job runs are there, so a second monitor on the same
/// database (a restart, or another node) sees all of it. Nothing is written to a SQLite file.
/// </summary>
[Collection(SharedPostgresServer.Name)]
public sealed class PostgresMonitorTests(PostgresServer server)
{
    private static Dictionary<string, string?> OnPostgres(string connectionString, string? retentionCron = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Monitor:History:Provider"] = "postgres",
            ["Monitor:History:ConnectionString"] = connectionString,
        };
        if (retentionCron is not null)
        {
            settings["Monitor:Jobs:RetentionCron"] = retentionCron;
        }

        return settings;
    }

    [Fact]
    public async Task Run_OnPostgres_StoresServesAndRunsJobsThere_AndASecondMonitorSeesIt()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        string connection = await server.CreateDatabaseAsync();
        string sqlite = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        string? stored;
        await using (var first = await JobsTestMonitor.StartAsync(sqlite, simulator: true, cancel.Token, OnPostgres(connection)))
        {
            while ((await first.GetAsync("/api/windows?limit=5", cancel.Token)).GetProperty("items").GetArrayLength() < 5)
            {
                await Task.Delay(200, cancel.Token);
            }

            var run = await first.RunJobAsync("retention", cancel.Token);
            Assert.True(run.GetProperty("outcome").GetString() == "succeeded", run.GetRawText());
            stored = (await first.GetAsync("/api/windows?limit=1", cancel.Token)).GetProperty("items")[0].GetProperty("id").GetString();
        }

        Assert.False(File.Exists(sqlite), "the SQLite file was created: something still writes there");
        Assert.True(await Scalar(connection, "SELECT COUNT(*) FROM windows") >= 5);
        Assert.Equal(1, await Scalar(connection, "SELECT COUNT(*) FROM job_runs WHERE job = 'retention' AND outcome = 'succeeded'"));
        Assert.Equal(TSViz.Monitor.Jobs.NightlyJobs.All.Count, await Scalar(connection, "SELECT COUNT(*) FROM qrtz_job_details"));
        Assert.Equal(TSViz.Monitor.Jobs.NightlyJobs.All.Count, await Scalar(connection, "SELECT COUNT(*) FROM qrtz_cron_triggers"));
        Assert.True(await Scalar(connection, "SELECT COUNT(*) FROM qrtz_scheduler_state") >= 1, "no clustered check-in in qrtz_scheduler_state");

        // A second monitor on the same database: the stored window and the last run come from PostgreSQL.
        await using var second = await JobsTestMonitor.StartAsync(sqlite, simulator: false, cancel.Token, OnPostgres(connection));
        Assert.Equal(stored, (await second.GetAsync($"/api/windows/{Uri.EscapeDataString(stored!)}", cancel.Token)).GetProperty("id").GetString());
        var last = (await second.JobAsync("retention", cancel.Token)).GetProperty("lastRun");
        Assert.Equal(JsonValueKind.Object, last.ValueKind);
        Assert.Equal("succeeded", last.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task TwoMonitorsOnOneDatabase_EachFireRunsOnExactlyOneOfThem_AndBothReportIt()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        string connection = await server.CreateDatabaseAsync();
        const string everyFiveSeconds = "0/5 * * * * ?";
        await using var a = await JobsTestMonitor.StartAsync(Path.Combine(RepositoryPaths.NewTempDirectory(), "a.db"), simulator: false, cancel.Token, OnPostgres(connection, everyFiveSeconds));
        await using var b = await JobsTestMonitor.StartAsync(Path.Combine(RepositoryPaths.NewTempDirectory(), "b.db"), simulator: false, cancel.Token, OnPostgres(connection, everyFiveSeconds));
        while (await Scalar(connection, "SELECT COUNT(*) FROM job_runs WHERE job = 'retention'") < 4)
        {
            await Task.Delay(500, cancel.Token);
        }

        // One run per fire time: the fires are 5 s apart, a run takes milliseconds, so two runs in one 5 s slot are a double run.
        long slots = await Scalar(connection, "SELECT COUNT(DISTINCT started_at / 5000) FROM job_runs WHERE job = 'retention'");
        long runs = await Scalar(connection, "SELECT COUNT(*) FROM job_runs WHERE job = 'retention'");
        Assert.Equal(runs, slots);
        Assert.Equal(2, await Scalar(connection, "SELECT COUNT(*) FROM qrtz_scheduler_state"));

        // Both nodes report the cluster's last run (the one that did not run it re-reads job_runs).
        long newest = await Scalar(connection, "SELECT MAX(finished_at) FROM job_runs WHERE job = 'retention'");
        foreach (var node in new[] { a, b })
        {
            await LiveWait(async () =>
            {
                var last = (await node.JobAsync("retention", cancel.Token)).GetProperty("lastRun");
                return last.ValueKind == JsonValueKind.Object && last.GetProperty("finishedAt").GetDateTimeOffset().ToUnixTimeMilliseconds() >= newest;
            }, cancel.Token);
        }
    }

    [Theory]
    [InlineData("postgres", null, "Monitor:History:ConnectionString must be an Npgsql connection string")]
    [InlineData("postgres", "Host=db.plant;Password=hunter2", "Monitor:History:ConnectionString must be an Npgsql connection string")]
    [InlineData("oracle", null, "Monitor:History:Provider must be sqlite or postgres, got 'oracle'")]
    public void Validate_BadProviderOrConnectionString_NamesTheKeyAndNeverThePassword(string provider, string? connectionString, string expected)
    {
        var options = new TSViz.Monitor.Settings.MonitorOptions();
        options.History.Provider = provider;
        options.History.ConnectionString = connectionString;
        var result = TSViz.Monitor.Hosting.MonitorHost.ValidateOptions(options);
        Assert.Contains(result.Failures!, f => f.StartsWith(expected, StringComparison.Ordinal));
        Assert.DoesNotContain("hunter2", result.FailureMessage, StringComparison.Ordinal);
    }

    private static async Task LiveWait(Func<Task<bool>> done, CancellationToken cancellationToken)
    {
        while (!await done())
        {
            await Task.Delay(250, cancellationToken);
        }
    }

    private static async Task<long> Scalar(string connectionString, string sql)
    {
        await using var database = NpgsqlDataSource.Create(connectionString);
        await using var command = database.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
