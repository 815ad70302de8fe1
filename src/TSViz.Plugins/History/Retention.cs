namespace TSViz.Plugins.History;

/// <summary>How long each kind of record is kept.</summary>
public sealed record RetentionPolicy
{
    /// <summary>Compact window records (History:RetainWindowsDays).</summary>
    public TimeSpan Windows { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Full explanations and input windows (History:RetainDetailsDays).</summary>
    public TimeSpan Details { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Closed alert episodes with their feedback, and their windows (History:RetainAlertsDays).</summary>
    public TimeSpan Alerts { get; init; } = TimeSpan.FromDays(365);

    /// <summary>Analysis results (History:RetainAnalysesDays).</summary>
    public TimeSpan Analyses { get; init; } = TimeSpan.FromDays(90);
}

/// <summary>How many records of each kind a retention run deleted.</summary>
/// <param name="Windows">Window records.</param>
/// <param name="Details">Full details (by their own age).</param>
/// <param name="Alerts">Closed alert episodes.</param>
/// <param name="Analyses">Analysis results.</param>
public sealed record RetentionResult(int Windows, int Details, int Alerts, int Analyses);
