namespace TSViz.Plugins.History;

/// <summary>How long each kind of record is kept.</summary>
public sealed record RetentionPolicy
{
    public TimeSpan Windows { get; init; } = TimeSpan.FromDays(30);

    public TimeSpan Details { get; init; } = TimeSpan.FromDays(7);

    public TimeSpan Alerts { get; init; } = TimeSpan.FromDays(365);

    public TimeSpan Analyses { get; init; } = TimeSpan.FromDays(90);
}

/// <summary>How many records of each kind a retention run deleted.</summary>
public sealed record RetentionResult(int Windows, int Details, int Alerts, int Analyses);
