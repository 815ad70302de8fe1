using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History;

/// <summary>A filter among the most influential of a window: layer, index in the layer, influence (raw and scaled 0-1).</summary>
public sealed record FilterRef(string Layer, int Index, float Influence, float InfluenceScaled);

/// <summary>
/// The compact record every scored window leaves (and every insufficient_data result, with no score).
/// <see cref="Id"/> is the idempotency key: machine, window end and model version.
/// </summary>
public sealed record WindowRecord
{
    public required string Id { get; init; }

    public required string Machine { get; init; }

    public required string ModelVersion { get; init; }

    public DateTimeOffset WindowStart { get; init; }

    public required DateTimeOffset WindowEnd { get; init; }

    /// <summary>Null for an insufficient_data result.</summary>
    public float? Score { get; init; }

    public bool? Decision { get; init; }

    /// <summary>anomaly, normal or insufficient_data.</summary>
    public required string ReasonCode { get; init; }

    public IReadOnlyDictionary<string, float> ChannelContributions { get; init; } = new Dictionary<string, float>();

    public string? DominantChannel { get; init; }

    /// <summary>Channel and step of the largest input saliency.</summary>
    public string? TopStepChannel { get; init; }

    public int? TopStep { get; init; }

    public IReadOnlyList<FilterRef> TopFilters { get; init; } = [];

    /// <summary>Score after one FGSM step (every window).</summary>
    public float? ScoreAfterFgsm { get; init; }

    /// <summary>Smallest eps that flips the decision (alert windows, when found).</summary>
    public double? SmallestFlippingEpsilon { get; init; }

    /// <summary>The alert episode the window belongs to, if it was in an open alert.</summary>
    public string? AlertId { get; init; }

    /// <summary>The full explanation and the input window, kept for alert windows and a sample of the rest.</summary>
    public WindowDetail? Detail { get; init; }

    /// <summary>Whether a full explanation is stored (queries return it without <see cref="Detail"/>, which only a lookup by id loads).</summary>
    public bool HasDetail { get; init; }
}

/// <summary>
/// What is kept in full for some windows: the explanation as published (JSON) and the raw input window
/// (channel-major, before preprocessing) so an analysis can be rerun on it.
/// </summary>
public sealed record WindowDetail(byte[] ExplanationJson, float[] Input, int Channels, int Length);

/// <summary>One alert episode of one machine (its id: machine, since and model version).</summary>
public sealed record AlertRecord
{
    public required string Id { get; init; }

    public required string Machine { get; init; }

    public required string ModelVersion { get; init; }

    public long Episode { get; init; }

    /// <summary>open or closed.</summary>
    public required string Status { get; init; }

    public required DateTimeOffset Since { get; init; }

    public DateTimeOffset? ClosedAt { get; init; }

    public double PeakScore { get; init; }

    public required string PeakWindowId { get; init; }

    public string? DominantChannel { get; init; }

    public IReadOnlyDictionary<string, float> ChannelContributions { get; init; } = new Dictionary<string, float>();

    public IReadOnlyList<FilterRef> TopFilters { get; init; } = [];

    /// <summary>
    /// The peak's explanation as a vector for "has this happened before": the saliency pattern (channels x steps,
    /// scaled 0-1) followed by the scaled influence of every filter. Compared by cosine similarity.
    /// </summary>
    public float[] Signature { get; init; } = [];

    /// <summary>Length of the saliency part of <see cref="Signature"/>; the rest is filter influence.</summary>
    public int SignatureSaliencyLength { get; init; }

    /// <summary>The kind of the latest operator feedback (acknowledge, confirm, false_alarm), when read back.</summary>
    public string? LastFeedback { get; init; }

    /// <summary>
    /// Why a closed episode closed when not by hysteresis (monitor_restarted, machine_idle); null for a normal close
    /// and for an open episode.
    /// </summary>
    public string? CloseReason { get; init; }
}

/// <summary>
/// What one history write stores in one transaction: window records (idempotent by id), alert upserts, the partial
/// window of every machine the write touched and the checkpoints of machines no longer tracked. A monitor killed at
/// any moment finds either all of it or none of it.
/// </summary>
public sealed record HistoryBatch
{
    public IReadOnlyList<WindowRecord> Windows { get; init; } = [];

    public IReadOnlyList<AlertRecord> Alerts { get; init; } = [];

    /// <summary>One row per machine is kept; of several checkpoints of one machine the last in the list wins.</summary>
    public IReadOnlyList<WindowCheckpoint> Checkpoints { get; init; } = [];

    /// <summary>Machines whose checkpoint is deleted (applied before <see cref="Checkpoints"/>, so a machine in both keeps its new one).</summary>
    public IReadOnlyList<string> RemovedCheckpoints { get; init; } = [];
}

/// <summary>What an operator said about an alert.</summary>
public enum FeedbackKind
{
    Acknowledge,
    Confirm,
    FalseAlarm,
}

public sealed record FeedbackRecord(long Id, string AlertId, FeedbackKind Kind, string Author, string? Comment, DateTimeOffset At)
{
    /// <summary>The author's role when the feedback was given (viewer, operator, engineer, admin); null before schema 3.</summary>
    public string? AuthorRole { get; init; }

    /// <summary>How the author signed in (api_key, jwt, none); null before schema 3.</summary>
    public string? AuthorMethod { get; init; }
}

/// <summary>Who gives feedback: the authenticated identity's name, and its role and sign-in method when known.</summary>
public sealed record FeedbackAuthor(string Name, string? Role = null, string? Method = null);

/// <summary>A stored result of a nightly analysis job.</summary>
public sealed record AnalysisRecord(long Id, string Job, string Model, string ModelVersion, DateTimeOffset At, int Windows, string SummaryJson);

/// <summary>One page of results; <see cref="NextCursor"/> fetches the next page (null at the end).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>Filters of a window query; every one is optional and they combine with AND.</summary>
public sealed record WindowQuery
{
    public string? Machine { get; init; }

    public DateTimeOffset? From { get; init; }

    public DateTimeOffset? To { get; init; }

    public double? MinScore { get; init; }

    /// <summary>anomaly, normal or insufficient_data.</summary>
    public string? ReasonCode { get; init; }

    public string? DominantChannel { get; init; }

    /// <summary>Only windows with a full explanation stored.</summary>
    public bool? HasDetail { get; init; }

    public int Limit { get; init; } = 100;

    public string? Cursor { get; init; }
}

public sealed record AlertQuery
{
    public string? Machine { get; init; }

    public DateTimeOffset? From { get; init; }

    public DateTimeOffset? To { get; init; }

    public double? MinScore { get; init; }

    /// <summary>open or closed.</summary>
    public string? Status { get; init; }

    public string? DominantChannel { get; init; }

    public int Limit { get; init; } = 100;

    public string? Cursor { get; init; }
}

public sealed record HourlyCount(string Machine, DateTimeOffset Hour, int Alerts);

public sealed record ChannelContributionPoint(DateTimeOffset Bucket, string Channel, double MeanShare, int Windows);

public sealed record FilterFrequency(string Layer, int Index, int Windows);

public sealed record SimilarAlert(AlertRecord Alert, double Similarity);

/// <summary>A stored input window (for the analysis jobs).</summary>
public sealed record StoredInput(string WindowId, string Machine, DateTimeOffset WindowEnd, float? Score, float[] Input, int Channels, int Length);

/// <summary>How long each kind of record is kept.</summary>
public sealed record RetentionPolicy
{
    public TimeSpan Windows { get; init; } = TimeSpan.FromDays(30);

    public TimeSpan Details { get; init; } = TimeSpan.FromDays(7);

    public TimeSpan Alerts { get; init; } = TimeSpan.FromDays(365);

    public TimeSpan Analyses { get; init; } = TimeSpan.FromDays(90);
}

public sealed record RetentionResult(int Windows, int Details, int Alerts, int Analyses);
