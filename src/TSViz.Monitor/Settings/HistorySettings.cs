namespace TSViz.Monitor.Settings;

/// <summary>The explanation history (SQLite file; the Quartz job store lives in the same file).</summary>
public sealed class HistorySettings
{
    public bool Enabled { get; set; } = true;

    /// <summary>The SQLite file (created with its folder; WAL mode).</summary>
    public string Path { get; set; } = "artifacts/data/history.db";

    /// <summary>Share of normal windows whose full explanation and input are kept (alert windows always are).</summary>
    public double FullExplanationSampleRate { get; set; } = 0.01;

    public double RetainWindowsDays { get; set; } = 30;

    public double RetainDetailsDays { get; set; } = 7;

    public double RetainAlertsDays { get; set; } = 365;

    public double RetainAnalysesDays { get; set; } = 90;

    /// <summary>How long a history statement waits for a lock held by another connection before it fails (and is retried).</summary>
    public double BusyTimeoutSeconds { get; set; } = 5;

    /// <summary>Section Monitor:History's rules.</summary>
    internal void Validate(OptionFailures failures)
    {
        failures.Check(BusyTimeoutSeconds is > 0 and <= 600, "History:BusyTimeoutSeconds", "must lie in (0, 600]", BusyTimeoutSeconds);
        failures.Check(!Enabled || !string.IsNullOrWhiteSpace(Path), "History:Path", "must name a SQLite file", Path);
        failures.Check(FullExplanationSampleRate is >= 0 and <= 1, "History:FullExplanationSampleRate", "must lie in [0, 1]", FullExplanationSampleRate);
        foreach (var (key, days) in new[] { ("History:RetainWindowsDays", RetainWindowsDays), ("History:RetainDetailsDays", RetainDetailsDays), ("History:RetainAlertsDays", RetainAlertsDays), ("History:RetainAnalysesDays", RetainAnalysesDays) })
        {
            failures.Check(days > 0, key, "must be positive", days);
        }
    }
}
