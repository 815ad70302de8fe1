namespace TSViz.Plugins.History;

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

/// <summary>A past alert and how similar its explanation is to the one asked about (0-1, see <see cref="AlertSimilarity"/>).</summary>
public sealed record SimilarAlert(AlertRecord Alert, double Similarity);
