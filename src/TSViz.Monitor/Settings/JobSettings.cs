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

    /// <summary>Quartz cron of the recurring-pattern job (alerts grouped by their explanations); default 02:45 daily.</summary>
    public string PatternsCron { get; set; } = "0 45 2 * * ?";

    /// <summary>When the drift job builds the machines' drift references (Quartz cron, local time).</summary>
    public string DriftCron { get; set; } = "0 15 3 * * ?";

    /// <summary>The pattern job groups the alerts of the last this many days.</summary>
    public int PatternDays { get; set; } = 90;

    /// <summary>At most this many alerts (the newest) are grouped per run.</summary>
    public int PatternMaxAlerts { get; set; } = 2000;

    /// <summary>
    /// Alerts share a pattern when every two of them are at least this similar (complete linkage on the similarity of
    /// "has this happened before": saliency pattern and filter influence); a new alert joins a pattern when it is
    /// this similar to every one of its alerts.
    /// </summary>
    public double PatternMinSimilarity { get; set; } = 0.8;

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
        failures.Check(PatternDays is >= 1 and <= 3650, "Jobs:PatternDays", "must lie in 1..3650", PatternDays);
        failures.Check(PatternMaxAlerts is >= 2 and <= 10_000, "Jobs:PatternMaxAlerts", "must lie in 2..10000", PatternMaxAlerts);
        failures.Check(PatternMinSimilarity is > 0 and < 1, "Jobs:PatternMinSimilarity", "must lie in (0, 1)", PatternMinSimilarity);
        foreach (var (key, cron) in new[] { ("Jobs:AnalysisCron", AnalysisCron), ("Jobs:RetentionCron", RetentionCron), ("Jobs:PatternsCron", PatternsCron), ("Jobs:DriftCron", DriftCron) })
        {
            failures.Check(!Enabled || IsValidCron(cron), key, "must be a Quartz cron expression (seconds minutes hours day-of-month month day-of-week [year]), e.g. 0 0 2 * * ?", cron);
        }
    }

    /// <summary>Whether <paramref name="expression"/> is a Quartz cron expression.</summary>
    internal static bool IsValidCron(string? expression) => !string.IsNullOrWhiteSpace(expression) && Quartz.CronExpression.TryParse(expression, out _);
}
