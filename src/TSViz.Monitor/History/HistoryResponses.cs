using System.Text.Json;

namespace TSViz.Monitor.History;

// The history API's response bodies. Serialized with the web defaults (camelCase), so each property's JSON name is
// its name in camelCase; the order of the properties is the order of the JSON fields.

/// <summary>A page of windows, newest first; <paramref name="NextCursor"/> fetches the next one (null on the last).</summary>
internal sealed record WindowPageResponse(IReadOnlyList<WindowResponse> Items, string? NextCursor);

/// <summary>
/// One scored window. <paramref name="Explanation"/> (the stored explanation JSON) and <paramref name="Input"/> (one row
/// per channel) are null in lists and when the history did not keep them.
/// </summary>
internal sealed record WindowResponse(
    string Id,
    string Machine,
    string ModelVersion,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    float? Score,
    bool? Decision,
    string ReasonCode,
    IReadOnlyDictionary<string, float> ChannelContributions,
    string? DominantChannel,
    TopStepResponse? TopStep,
    IReadOnlyList<FilterResponse> TopFilters,
    float? ScoreAfterFgsm,
    double? SmallestFlippingEpsilon,
    string? AlertId,
    bool HasDetail,
    JsonElement? Explanation,
    float[][]? Input);

/// <summary>The input point with the largest saliency: its channel and time step.</summary>
internal sealed record TopStepResponse(string? Channel, int Step);

/// <summary>One of the top filters: its layer, index, influence (Eq. 16) and influence scaled 0-1.</summary>
internal sealed record FilterResponse(string Layer, int Index, float Influence, float InfluenceScaled);

/// <summary>A page of alert episodes, newest first; <paramref name="NextCursor"/> fetches the next one (null on the last).</summary>
internal sealed record AlertPageResponse(IReadOnlyList<AlertResponse> Items, string? NextCursor);

/// <summary>One alert episode of a machine (status open or closed).</summary>
internal sealed record AlertResponse(
    string Id,
    string Machine,
    string ModelVersion,
    long Episode,
    string Status,
    DateTimeOffset Since,
    DateTimeOffset? ClosedAt,
    string? CloseReason,
    double PeakScore,
    string PeakWindowId,
    string? DominantChannel,
    IReadOnlyDictionary<string, float> ChannelContributions,
    IReadOnlyList<FilterResponse> TopFilters,
    string? LastFeedback,
    FaithfulnessResponse? Faithfulness = null);

/// <summary>
/// The peak explanation's faithfulness check: the score, the score with the most salient <paramref name="Fraction"/>
/// of cells removed, the mean score with as many random cells removed, and the verdict (passed or failed).
/// </summary>
internal sealed record FaithfulnessResponse(double Fraction, double Score, double DeletionScore, double RandomScore, string Verdict);

/// <summary>One alert with its feedback (oldest first) and its peak window in full (null when no longer stored).</summary>
internal sealed record AlertDetailResponse(AlertResponse Alert, IReadOnlyList<FeedbackResponse> Feedback, WindowResponse? PeakWindow);

/// <summary>A past alert and the similarity (cosine, -1 to 1) of its explanation to the asked one's.</summary>
internal sealed record SimilarAlertResponse(double Similarity, AlertResponse Alert);

/// <summary>Operator feedback on an alert: kind (acknowledge, confirm, false_alarm), who gave it and how they signed in.</summary>
internal sealed record FeedbackResponse(long Id, string AlertId, string Kind, string Author, string? AuthorRole, string? AuthorMethod, string? Comment, DateTimeOffset At);

/// <summary>Alerts a machine opened in one hour.</summary>
internal sealed record HourlyAlertsResponse(string Machine, DateTimeOffset Hour, int Alerts);

/// <summary>A channel's mean share (0-1) of the contributions in one time bucket, over the bucket's scored windows.</summary>
internal sealed record ChannelContributionResponse(DateTimeOffset Bucket, string Channel, double MeanShare, int Windows);

/// <summary>A filter and the number of windows that had it among their top filters.</summary>
internal sealed record FilterFrequencyResponse(string Layer, int Index, int Windows);

/// <summary>A recurring fault pattern (<see cref="TSViz.Plugins.History.PatternSummary"/>) with its summary in plain words.</summary>
internal sealed record PatternResponse(
    string Id, string ModelVersion, int Occurrences, IReadOnlyList<string> Machines, DateTimeOffset FirstSeen, DateTimeOffset LastSeen,
    int Confirmed, int FalseAlarms, bool MostlyFalseAlarms, string? LastComment, DateTimeOffset? LastCommentAt, IReadOnlyList<string> AlertIds, DateTimeOffset ComputedAt, string Summary);
