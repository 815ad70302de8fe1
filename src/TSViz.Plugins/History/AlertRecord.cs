namespace TSViz.Plugins.History;

/// <summary>One alert episode of one machine (its id: machine, since and model version).</summary>
public sealed record AlertRecord
{
    /// <summary>"{machine}:{since, ISO 8601}:{model}/{version}".</summary>
    public required string Id { get; init; }

    /// <summary>The machine in alert.</summary>
    public required string Machine { get; init; }

    /// <summary>The model that raised it: "{name} {version}".</summary>
    public required string ModelVersion { get; init; }

    /// <summary>The machine's alert count: 1 for its first episode, continued across restarts.</summary>
    public long Episode { get; init; }

    /// <summary>open or closed.</summary>
    public required string Status { get; init; }

    /// <summary>The end of the window that opened the episode.</summary>
    public required DateTimeOffset Since { get; init; }

    /// <summary>The end of the window that closed it; null while open.</summary>
    public DateTimeOffset? ClosedAt { get; init; }

    /// <summary>The highest score of the episode's windows.</summary>
    public double PeakScore { get; init; }

    /// <summary>The window of <see cref="PeakScore"/> (its explanation is kept in full).</summary>
    public required string PeakWindowId { get; init; }

    /// <summary>The peak window's dominant channel.</summary>
    public string? DominantChannel { get; init; }

    /// <summary>The peak window's channel contributions.</summary>
    public IReadOnlyDictionary<string, float> ChannelContributions { get; init; } = new Dictionary<string, float>();

    /// <summary>The peak window's most influential filters.</summary>
    public IReadOnlyList<InfluentialFilter> TopFilters { get; init; } = [];

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

/// <summary>A past alert and how similar its explanation is to the one asked about.</summary>
/// <param name="Alert">The past alert.</param>
/// <param name="Similarity">Cosine similarity of the signatures, 1 for the same pattern (<see cref="AlertSimilarity.Similarity"/>).</param>
public sealed record SimilarAlert(AlertRecord Alert, double Similarity);
