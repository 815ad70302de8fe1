using System.Text.Json.Serialization;
using TSViz.Monitor.Explaining;

namespace TSViz.Monitor.Live;

/// <summary>tsviz/v1/{machine}/explanation: one per scored window.</summary>
internal sealed record ExplanationMessage(
    string Id,
    string Machine,
    string ModelVersion,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    float Score,
    bool Decision,
    string ReasonCode,
    string Differentiated,
    bool GradientsVanished,
    IReadOnlyDictionary<string, float> ChannelContributions,
    string DominantChannel,
    [property: JsonConverter(typeof(ScaledSaliencyConverter))] float[][] Saliency,
    IReadOnlyList<TopStepMessage> TopSteps,
    IReadOnlyList<TopFilterMessage> TopFilters,
    RobustnessMessage? Robustness,
    AlertSummaryMessage? Alert,
    IReadOnlyList<FilterSaliencyMessage>? FilterSaliency,
    TimingsMessage Timings,
    string SaliencyMethod = "gradient",
    FaithfulnessMessage? Faithfulness = null);

/// <summary>
/// tsviz/v1/{machine}/explanation when there is no window to score: the machine's stream had a gap longer than
/// MaxGapSeconds (cause "gap") or its source said it is gone (cause "sparkplug_ddeath", "sparkplug_ndeath": the
/// gap ends at the death), its earlier samples were discarded, and no score is given until a full window has arrived again.
/// </summary>
internal sealed record InsufficientDataMessage(
    string Id,
    string Machine,
    string ModelVersion,
    string ReasonCode,
    DateTimeOffset GapStart,
    DateTimeOffset GapEnd,
    double GapSeconds,
    double MaxGapSeconds,
    int SamplesUntilNextWindow,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] float? Score,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] bool? Decision,
    string Cause = "gap");

internal sealed record TopStepMessage(string Channel, int Step, float Saliency);

internal sealed record TopFilterMessage(string Layer, int Index, float Influence, float InfluenceScaled);

internal sealed record FilterSaliencyMessage(string Layer, int Filter, float[][] Saliency);

internal sealed record RobustnessMessage(string Method, double Epsilon, float ScoreBefore, float ScoreAfter, bool Flipped, double? SmallestFlippingEpsilon, double? NotFlippedUpTo);

internal sealed record AlertSummaryMessage(bool Open, long Episode);

/// <summary>
/// The faithfulness check of an alert window: its score, the score with its most salient <paramref name="Fraction"/> of
/// cells set to the baseline, the mean over <paramref name="RandomDraws"/> removals of as many random cells, and the
/// verdict (passed: the deletion lowered the score at least Monitor:Faithfulness:MinMargin more than the random ones).
/// </summary>
internal sealed record FaithfulnessMessage(double Fraction, int Cells, float Score, float DeletionScore, float RandomScore, int RandomDraws, string Verdict)
{
    public const string Passed = "passed";
    public const string Failed = "failed";
}

internal sealed record TimingsMessage(double QueueMs, double ScoreMs, double ExplainMs, int BatchSize);

/// <summary>
/// tsviz/v1/{machine}/alert (retained): the machine's current alert episode; closeReason says why an episode closed
/// other than by hysteresis (monitor_restarted, machine_idle).
/// </summary>
internal sealed record AlertMessage(
    string Id,
    string Machine,
    string Status,
    DateTimeOffset Since,
    DateTimeOffset? ClosedAt,
    double PeakScore,
    string PeakWindowId,
    long Episode,
    string ModelVersion,
    string DominantChannel,
    IReadOnlyDictionary<string, float> ChannelContributions,
    IReadOnlyList<TopFilterMessage> TopFilters,
    string? CloseReason = null,
    FaithfulnessMessage? Faithfulness = null,
    CounterfactualMessage? Counterfactual = null,
    PatternMessage? Pattern = null);

/// <summary>
/// tsviz/v1/{machine}/explanation when a window was scored but could not be explained: the score and decision stand,
/// reason code explanation_failed, and why.
/// </summary>
internal sealed record UnexplainedMessage(
    string Id,
    string Machine,
    string ModelVersion,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    float Score,
    bool Decision,
    string ReasonCode,
    string Error,
    AlertSummaryMessage? Alert,
    TimingsMessage Timings);

/// <summary>tsviz/v1/deadletter: an input message that was refused, with why.</summary>
internal sealed record DeadLetterMessage(string Topic, string Reason, string Detail, DateTimeOffset ReceivedAt, int PayloadBytes, string PayloadPreview);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ExplanationMessage))]
[JsonSerializable(typeof(InsufficientDataMessage))]
[JsonSerializable(typeof(AlertMessage))]
[JsonSerializable(typeof(DeadLetterMessage))]
[JsonSerializable(typeof(UnexplainedMessage))]
[JsonSerializable(typeof(CounterfactualDocument))]
[JsonSerializable(typeof(DriftMessage))]
internal sealed partial class LiveJsonContext : JsonSerializerContext;
