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

    /// <summary>The peak window's faithfulness check; null when the check was off or the peak predates it.</summary>
    public AlertFaithfulness? Faithfulness { get; init; }
}

/// <summary>
/// The deletion check of an alert's peak explanation: the score, the score once the most salient
/// <paramref name="Fraction"/> of its cells are set to the baseline, the mean score over random removals of as many
/// cells, and the verdict (passed or failed).
/// </summary>
/// <param name="Fraction">Share of the window's cells removed.</param>
/// <param name="Score">The peak window's score.</param>
/// <param name="DeletionScore">The score with the most salient cells removed.</param>
/// <param name="RandomScore">The mean score with as many random cells removed.</param>
/// <param name="Verdict">passed or failed.</param>
public sealed record AlertFaithfulness(double Fraction, double Score, double DeletionScore, double RandomScore, string Verdict);

/// <summary>A past alert and how similar its explanation is to the one asked about.</summary>
/// <param name="Alert">The past alert.</param>
/// <param name="Similarity">Cosine similarity of the signatures, 1 for the same pattern (<see cref="AlertSimilarity.Similarity"/>).</param>
public sealed record SimilarAlert(AlertRecord Alert, double Similarity);
