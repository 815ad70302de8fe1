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
    /// <summary>Node metric: the model's name (<see cref="SparkplugEdgeNodeSettings.ModelName"/>).</summary>
    public const string ModelName = "Properties/Model Name";

    /// <summary>Node metric: the model's version (<see cref="SparkplugEdgeNodeSettings.ModelVersion"/>).</summary>
    public const string ModelVersion = "Properties/Model Version";

    /// <summary>The model's channels, comma-separated, in input order.</summary>
    public const string Channels = "Properties/Channels";

    /// <summary>
    /// Device metric: the id of the machine's latest reported window (<see cref="ExplanationReport.WindowId"/>).
    /// </summary>
    public const string WindowId = "Window/Id";

    /// <summary>Device metric: the time of that window's last sample.</summary>
    public const string WindowEnd = "Window/End";

    /// <summary>Device metric: the model's score of the window (<see cref="ExplanationReport.Score"/>).</summary>
    public const string Score = "Score";

    /// <summary>Device metric: the decision threshold the score was compared with.</summary>
    public const string Threshold = "Threshold";

    /// <summary>Device metric: the model's decision, true when the score reached the threshold.</summary>
    public const string Anomaly = "Decision/Anomaly";

    /// <summary>The explanation's reason code (anomaly, normal, explanation_failed).</summary>
    public const string Reason = "Decision/Reason";

    /// <summary>The prefix of the per-channel contribution metrics: <c>Contribution/{channel}</c>.</summary>
    public const string ContributionPrefix = "Contribution/";

    /// <summary>
    /// Device metric: the size of the FGSM step of the window's robustness check, in the model's (preprocessed) input
    /// units; null when no check was made.
    /// </summary>
    public const string RobustnessEpsilon = "Robustness/Epsilon";

    /// <summary>The score after one FGSM step of <see cref="RobustnessEpsilon"/>.</summary>
    public const string RobustnessScoreAfter = "Robustness/Score After";

    /// <summary>Device metric: whether that step flipped the model's decision; null when no check was made.</summary>
    public const string RobustnessFlipped = "Robustness/Flipped";

    /// <summary>Device metric: whether the machine's alert is open (<see cref="AlertReport.Open"/>).</summary>
    public const string AlertOpen = "Alert/Open";

    /// <summary>Device metric: the id of the machine's current or last alert; null when it never had one.</summary>
    public const string AlertId = "Alert/Id";

    /// <summary>The contribution metric of <paramref name="channel"/>.</summary>
    public static string Contribution(string channel) => ContributionPrefix + channel;
}
