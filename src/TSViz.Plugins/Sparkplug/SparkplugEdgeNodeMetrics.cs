namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// The metric names of the monitor's edge node (<see cref="SparkplugEdgeNode"/>). Node metrics (NBIRTH, no aliases):
/// <see cref="SparkplugMetricNames.BdSeq"/> (Int64), <see cref="SparkplugMetricNames.NodeControlRebirth"/> (Boolean),
/// <see cref="ModelName"/>, <see cref="ModelVersion"/> and <see cref="Channels"/> (String). Device metrics (one device
/// per machine, DBIRTH with names and aliases, DDATA by alias), in this order: <see cref="WindowId"/> (String),
/// <see cref="WindowEnd"/> (DateTime), <see cref="Score"/>, <see cref="Threshold"/> (Double), <see cref="Anomaly"/>
/// (Boolean), <see cref="Reason"/> (String), <c>Contribution/{channel}</c> per channel (Double),
/// <see cref="RobustnessEpsilon"/>, <see cref="RobustnessScoreAfter"/> (Double), <see cref="RobustnessFlipped"/>
/// (Boolean), <see cref="AlertOpen"/> (Boolean), <see cref="AlertId"/> (String). A value the report lacks is null.
/// </summary>
public static class SparkplugEdgeNodeMetrics
{
    public const string ModelName = "Properties/Model Name";
    public const string ModelVersion = "Properties/Model Version";

    /// <summary>The model's channels, comma-separated, in input order.</summary>
    public const string Channels = "Properties/Channels";

    public const string WindowId = "Window/Id";
    public const string WindowEnd = "Window/End";
    public const string Score = "Score";
    public const string Threshold = "Threshold";
    public const string Anomaly = "Decision/Anomaly";

    /// <summary>The explanation's reason code (anomaly, normal, explanation_failed).</summary>
    public const string Reason = "Decision/Reason";

    /// <summary>The prefix of the per-channel contribution metrics: <c>Contribution/{channel}</c>.</summary>
    public const string ContributionPrefix = "Contribution/";

    public const string RobustnessEpsilon = "Robustness/Epsilon";

    /// <summary>The score after one FGSM step of <see cref="RobustnessEpsilon"/>.</summary>
    public const string RobustnessScoreAfter = "Robustness/Score After";
    public const string RobustnessFlipped = "Robustness/Flipped";
    public const string AlertOpen = "Alert/Open";
    public const string AlertId = "Alert/Id";

    /// <summary>The contribution metric of <paramref name="channel"/>.</summary>
    public static string Contribution(string channel) => ContributionPrefix + channel;
}
