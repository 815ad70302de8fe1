using TSViz.Explain.Pruning;

namespace TSViz.Monitor.Settings;

/// <summary>The nightly Quartz jobs.</summary>
public sealed class JobSettings
{
    public bool Enabled { get; set; } = true;

    /// <summary>Quartz cron of the analysis job (filter clusters and pruning candidates); default 02:00 daily.</summary>
    public string AnalysisCron { get; set; } = "0 0 2 * * ?";

    /// <summary>Quartz cron of the retention job; default 02:30 daily.</summary>
    public string RetentionCron { get; set; } = "0 30 2 * * ?";

    /// <summary>The analysis uses the input windows stored in the last this many hours.</summary>
    public double AnalysisHours { get; set; } = 24;

    /// <summary>At most this many stored windows per analysis (newest first).</summary>
    public int AnalysisMaxWindows { get; set; } = 1000;

    /// <summary>
    /// What ranks the analysis's pruning candidates and picks its faithfulness filters: "contribution" (default,
    /// |sum_t a_j(t) dy/da_j(t)|, which predicts the damage of zeroing a filter better) or "influence" (Eq. 16).
    /// </summary>
    public string PruningCriterion { get; set; } = PruningCriteria.Default.Name();

    /// <summary>Section Monitor:Jobs's rules (that the jobs need the history is <see cref="MonitorOptions"/>'s).</summary>
    internal void Validate(OptionFailures failures)
    {
        failures.Check(AnalysisHours > 0, "Jobs:AnalysisHours", "must be positive", AnalysisHours);
        failures.Check(AnalysisMaxWindows >= 2, "Jobs:AnalysisMaxWindows", "must be at least 2", AnalysisMaxWindows);
        failures.Check(PruningCriteria.TryParse(PruningCriterion, out _), "Jobs:PruningCriterion", $"must be one of {string.Join(", ", PruningCriteria.Names)}", PruningCriterion);
        foreach (var (key, cron) in new[] { ("Jobs:AnalysisCron", AnalysisCron), ("Jobs:RetentionCron", RetentionCron) })
        {
            failures.Check(!Enabled || IsValidCron(cron), key, "must be a Quartz cron expression (seconds minutes hours day-of-month month day-of-week [year]), e.g. 0 0 2 * * ?", cron);
        }
    }

    /// <summary>Whether <paramref name="expression"/> is a Quartz cron expression.</summary>
    internal static bool IsValidCron(string? expression) => !string.IsNullOrWhiteSpace(expression) && Quartz.CronExpression.TryParse(expression, out _);
}
