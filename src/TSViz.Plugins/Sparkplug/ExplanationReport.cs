namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// One scored and explained window of one machine, as <see cref="SparkplugEdgeNode"/> publishes it: the monitor maps
/// its explanation message onto this (windows without a score, such as a gap notice, are not reported).
/// </summary>
public sealed record ExplanationReport
{
    /// <summary>The machine id; it becomes the Sparkplug device id (<see cref="SparkplugTopic.EscapeId"/>).</summary>
    public required string Machine { get; init; }

    /// <summary>The window's id (the history's idempotency key).</summary>
    public required string WindowId { get; init; }

    /// <summary>The time of the window's last sample; the metrics are stamped with it.</summary>
    public required DateTimeOffset WindowEnd { get; init; }

    /// <summary>The model's output (for the anomaly model, the probability of an anomaly).</summary>
    public required double Score { get; init; }

    /// <summary>The model's decision: true when the score reaches the threshold.</summary>
    public required bool Anomaly { get; init; }

    /// <summary>The reason code of the explanation (<c>anomaly</c>, <c>normal</c>, <c>explanation_failed</c>).</summary>
    public required string ReasonCode { get; init; }

    /// <summary>The model's decision threshold.</summary>
    public required double Threshold { get; init; }

    /// <summary>Each channel's share of the saliency (summing to 1); channels left out are published as null.</summary>
    public IReadOnlyDictionary<string, double> ChannelContributions { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>The adversarial check of the window, or null when it was not made (its metrics are then null).</summary>
    public RobustnessReport? Robustness { get; init; }

    /// <summary>The machine's alert episode as of this window.</summary>
    public AlertReport Alert { get; init; } = AlertReport.None;
}

/// <summary>The score after an FGSM step of size <paramref name="Epsilon"/>, and whether it flipped the decision.</summary>
/// <param name="Epsilon">The step size, in the model's (preprocessed) input units.</param>
/// <param name="ScoreAfter">The model's score of the window after the step.</param>
/// <param name="Flipped">Whether the step changed the model's decision.</param>
public sealed record RobustnessReport(double Epsilon, double ScoreAfter, bool Flipped);

/// <summary>Whether the machine's alert is open, and its id (null when the machine never had one).</summary>
/// <param name="Open">True while the machine's alert is open.</param>
/// <param name="AlertId">
/// The id of its current or last alert (the monitor gives the episode number), null when it never had one.
/// </param>
public sealed record AlertReport(bool Open, string? AlertId)
{
    /// <summary>No alert, open or closed.</summary>
    public static AlertReport None { get; } = new(false, null);
}
