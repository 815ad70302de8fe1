using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace TSViz.Monitor.Tests.Prometheus;

/// <summary>
/// The shipped dashboards, rules and scrape configuration against a real Prometheus scraping the running monitor:
/// every dashboard query and every rule expression must evaluate without error and find the series it is about.
/// </summary>
public sealed partial class PrometheusIntegrationTests(MonitoredPlantFixture plant, ITestOutputHelper output) : IClassFixture<MonitoredPlantFixture>
{
    /// <summary>The dashboards' uids, fixed: links, bookmarks and other dashboards address a dashboard by it.</summary>
    private static readonly Dictionary<string, string> ExpectedUids = new(StringComparer.Ordinal)
    {
        ["machine-drilldown.json"] = "tsviz-machine-drilldown",
        ["monitor-health.json"] = "tsviz-monitor-health",
        ["plant-overview.json"] = "tsviz-plant-overview",
    };

    private static readonly string[] SimulatedMachines = ["line1/m1", "line1/m2", "line1/m3"];

    /// <summary>Rules whose condition must not hold while the monitor runs, is scraped and is connected to its broker.</summary>
    private static readonly string[] SilentWhileHealthy = ["TSVizMonitorDown", "TSVizBrokerDisconnected", "TSVizNightlyJobStale"];

    [Fact]
    public async Task Dashboards_EveryPanelQuery_ReturnsDataFromARealPrometheus()
    {
        var queries = DashboardFiles.Load().SelectMany(d => DashboardFiles.Queries(d.File, d.Dashboard))
            .Select(q => (q.Name, q.Expression, Substituted: DashboardFiles.Substitute(q.Expression)))
            .ToList();
        Assert.True(queries.Count >= 30, $"Only {queries.Count} dashboard queries found.");

        // Series appear with the first event of their kind (an alert, a flip eps): wait for them, up to a limit.
        var failures = await RetryUntilNoneFailAsync(async cancellationToken =>
        {
            var failed = new List<string>();
            foreach (var (name, expression, substituted) in queries)
            {
                var result = await plant.Prometheus.QueryAsync(substituted, cancellationToken);
                string? problem = result.Error is not null ? $"error: {result.Error}"
                    : result.Values.Count == 0 ? "no series"
                    : !result.HasNumber ? "only NaN (no observations in the window)"
                    : null;
                if (problem is not null)
                {
                    failed.Add($"{name}: {expression} -> {problem}");
                }
            }

            return failed;
        });

        output.WriteLine($"{queries.Count.ToString(CultureInfo.InvariantCulture)} dashboard queries evaluated.");
        Assert.True(failures.Count == 0, "Dashboard queries that failed:\n" + string.Join('\n', failures));
    }

    [Fact]
    public async Task Dashboards_MachineVariable_ListsEverySimulatedMachine()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var (file, dashboard) in DashboardFiles.Load())
        {
            var machine = DashboardFiles.Variables(dashboard).Single(v => v.GetProperty("name").GetString() == "machine");
            var call = LabelValuesCall().Match(machine.GetProperty("definition").GetString()!);
            Assert.True(call.Success, $"{file}: the machine variable is not label_values(selector, label).");
            var values = await plant.Prometheus.LabelValuesAsync(call.Groups["label"].Value, call.Groups["selector"].Value, cancel.Token);
            Assert.Equal(SimulatedMachines, values.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Rules_EveryExpression_EvaluatesHealthyAndWatchesExistingSeries()
    {
        var declared = RuleFiles.DeclaredRuleNames();
        Assert.Contains("TSVizMonitorDown", declared);
        var failures = await RetryUntilNoneFailAsync(async cancellationToken =>
        {
            var failed = new List<string>();
            var loaded = await plant.Prometheus.RulesAsync(cancellationToken);
            if (!loaded.Select(r => r.Name).SequenceEqual(declared))
            {
                failed.Add($"Prometheus loaded [{string.Join(", ", loaded.Select(r => r.Name))}], the file declares [{string.Join(", ", declared)}]");
            }

            foreach (var rule in loaded)
            {
                if (rule.Health == "err")
                {
                    failed.Add($"{rule.Name}: {rule.Query} -> error: {rule.LastError}");
                }
                else if (rule.Health != "ok")
                {
                    failed.Add($"{rule.Name}: not evaluated by Prometheus yet (health {rule.Health})");
                }

                var asIs = await plant.Prometheus.QueryAsync(rule.Query, cancellationToken);
                string watched = RuleFiles.WithBoolComparisons(rule.Query);
                var everySeries = await plant.Prometheus.QueryAsync(watched, cancellationToken);
                if (asIs.Error is not null || everySeries.Error is not null)
                {
                    failed.Add($"{rule.Name}: {rule.Query} -> error: {asIs.Error ?? everySeries.Error}");
                }
                else if (everySeries.Values.Count == 0)
                {
                    failed.Add($"{rule.Name}: {watched} -> no series (the rule watches nothing that exists)");
                }
                else if (SilentWhileHealthy.Contains(rule.Name) && asIs.Values.Count > 0)
                {
                    failed.Add($"{rule.Name}: {rule.Query} -> holds for the running, connected monitor");
                }
            }

            return failed;
        });

        output.WriteLine($"{declared.Count.ToString(CultureInfo.InvariantCulture)} rules evaluated, each as written and in bool form.");
        Assert.True(failures.Count == 0, "Rules that failed:\n" + string.Join('\n', failures));
    }

    [Fact]
    public async Task NightlyJobs_MonitorJobLabel_ArrivesAsExportedJobBesideTheScrapeJob()
    {
        // The rule and the panels select the monitor's job name as exported_job: Prometheus keeps "job" for the scrape job.
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var success = await plant.Prometheus.QueryAsync("tsviz_job_last_success_timestamp_seconds{job=\"tsviz-monitor\", exported_job=\"retention\"}", cancel.Token);
        Assert.Single(success.Values);
        var runs = await plant.Prometheus.QueryAsync("count by (exported_job) (tsviz_job_runs_total{job=\"tsviz-monitor\"})", cancel.Token);
        Assert.Equal(TSViz.Monitor.Jobs.NightlyJobs.All.Count, runs.Values.Count);
    }

    [Fact]
    public async Task Metrics_MonitorOutput_PassesPromtoolCheckMetrics()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string metrics = await plant.ScrapeMonitorAsync(cancel.Token);
        Assert.Contains("tsviz_model_threshold 0.5", metrics, StringComparison.Ordinal);
        var (exitCode, text) = await Promtool.RunAsync(["check", "metrics"], metrics, cancel.Token);
        Assert.True(exitCode == 0, $"promtool check metrics: exit {exitCode.ToString(CultureInfo.InvariantCulture)}\n{text}");
    }

    [Fact]
    public async Task ShippedFiles_PassPromtoolCheckConfigAndRules()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var config = await Promtool.RunAsync(["check", "config", RuleFiles.ConfigPath], null, cancel.Token);
        Assert.True(config.ExitCode == 0, $"promtool check config:\n{config.Output}");
        Assert.Contains("1 rule files found", config.Output, StringComparison.Ordinal);
        var rules = await Promtool.RunAsync(["check", "rules", RuleFiles.RulesPath], null, cancel.Token);
        Assert.True(rules.ExitCode == 0, $"promtool check rules:\n{rules.Output}");
        Assert.Contains($"{RuleFiles.DeclaredRuleNames().Count.ToString(CultureInfo.InvariantCulture)} rules found", rules.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Dashboards_Uids_AreFixedUniqueAndEveryDashboardHasTheMachineVariable()
    {
        var dashboards = DashboardFiles.Load();
        Assert.Equal(ExpectedUids.Keys.Order(StringComparer.Ordinal), dashboards.Select(d => d.File));
        foreach (var (file, dashboard) in dashboards)
        {
            Assert.Equal(ExpectedUids[file], dashboard.GetProperty("uid").GetString());
            var machine = DashboardFiles.Variables(dashboard).SingleOrDefault(v => v.GetProperty("name").GetString() == "machine");
            Assert.True(machine.ValueKind == JsonValueKind.Object, $"{file} has no machine variable.");
            Assert.Equal("label_values(tsviz_score, machine)", machine.GetProperty("definition").GetString());

            // Links between dashboards address them by uid: each must name a shipped dashboard.
            foreach (Match link in DashboardLink().Matches(dashboard.GetRawText()))
            {
                Assert.Contains(link.Groups["uid"].Value, ExpectedUids.Values);
            }
        }

        Assert.Equal(dashboards.Count, dashboards.Select(d => d.Dashboard.GetProperty("uid").GetString()).Distinct(StringComparer.Ordinal).Count());
        Assert.True(File.Exists(Path.Combine(DashboardFiles.Folder, "..", "provisioning", "dashboards", "tsviz.yaml")));
    }

    [Theory]
    [InlineData("up{job=\"a\"} == 0 or absent(up{job=\"a\"})", "up{job=\"a\"} == bool 0 or absent(up{job=\"a\"})")]
    [InlineData("x{reason!=\"y\",a=~\"b\"} > 2", "x{reason!=\"y\",a=~\"b\"} > bool 2")]
    [InlineData("sum(rate(a[5m])) / sum(rate(b[5m])) >= 0.01", "sum(rate(a[5m])) / sum(rate(b[5m])) >= bool 0.01")]
    [InlineData("a < bool 1", "a < bool 1")]
    [InlineData("a{l=\"x>1\"} != 1", "a{l=\"x>1\"} != bool 1")]
    public void WithBoolComparisons_AlertCondition_KeepsEverySeries(string condition, string expected) =>
        Assert.Equal(expected, RuleFiles.WithBoolComparisons(condition));

    /// <summary>
    /// Runs a check until it reports no failures or 60 s have passed (series appear with their first event); an
    /// error from Prometheus (a bad expression) will not go away by waiting and ends the wait at once.
    /// </summary>
    private static async Task<IReadOnlyList<string>> RetryUntilNoneFailAsync(Func<CancellationToken, Task<List<string>>> check)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var failures = await check(cancel.Token);
            if (failures.Count == 0 || DateTime.UtcNow >= deadline || failures.Exists(f => f.Contains(" -> error: ", StringComparison.Ordinal)))
            {
                return failures;
            }

            await Task.Delay(1000, cancel.Token);
        }
    }

    [GeneratedRegex(@"^label_values\((?<selector>.+),\s*(?<label>\w+)\)$")]
    private static partial Regex LabelValuesCall();

    [GeneratedRegex(@"/d/(?<uid>[\w-]+)")]
    private static partial Regex DashboardLink();
}
