using TSViz.Plugins.Drift;

namespace TSViz.Monitor.Explaining;

/// <summary>
/// {OutputPrefix}/{machine}/drift (retained): the machine's drift state against its reference, per kind with what moved
/// most; republished on every change of state and every Drift:PublishEveryWindows compared windows.
/// </summary>
/// <param name="Machine">The machine.</param>
/// <param name="ModelVersion">The deployed model version.</param>
/// <param name="At">The end of the latest window compared.</param>
/// <param name="State">no_reference, warming, normal or drift.</param>
/// <param name="Windows">Windows in the rolling comparison.</param>
/// <param name="Kinds">input, score and explanation (empty without a reference or while warming).</param>
/// <param name="Reference">The reference compared against.</param>
/// <param name="Summary">In plain words.</param>
internal sealed record DriftMessage(
    string Machine, string ModelVersion, DateTimeOffset At, string State, int Windows, IReadOnlyList<DriftKindMessage> Kinds, DriftReferenceMessage? Reference, string Summary);

/// <summary>One kind of drift.</summary>
internal sealed record DriftKindMessage(string Kind, double Value, double Threshold, double Cusum, string State, DriftMoveMessage Moved);

/// <summary>What moved most, with <see cref="Description"/> in plain words.</summary>
internal sealed record DriftMoveMessage(string Component, string? Channel, string? Filter, int? Segment, double From, double To, double Divergence, string Description)
{
    public static DriftMoveMessage Of(DriftMove move) => new(move.Component, move.Channel, move.Filter, move.Segment, move.From, move.To, move.Divergence, move.Describe());
}

/// <summary>The reference a machine is compared against.</summary>
internal sealed record DriftReferenceMessage(DateTimeOffset BuiltAt, DateTimeOffset From, DateTimeOffset To, int Windows, int Rolling, double InputThreshold, double ScoreThreshold, double ExplanationThreshold);

/// <summary>
/// One compared distribution, reference and current side by side: the bins' inner edges (in the component's units;
/// empty for filters and time, whose bins are named by <see cref="Labels"/>) and each bin's probability.
/// </summary>
internal sealed record DriftDistributionMessage(string Kind, string Component, string? Channel, IReadOnlyList<double> Edges, IReadOnlyList<string> Labels, IReadOnlyList<double> Reference, IReadOnlyList<double> Current, double Divergence);

/// <summary>GET /api/drift/{machine}: the state and every compared distribution.</summary>
internal sealed record DriftDetailResponse(DriftMessage Drift, IReadOnlyList<DriftDistributionMessage> Distributions);

/// <summary>GET /api/drift/{machine}/events: drift state changes, newest first.</summary>
internal sealed record DriftEventMessage(long Id, string Machine, string ModelVersion, DateTimeOffset At, string Kind, string State, double Value, double Threshold, DriftMoveMessage Moved, string Summary);
