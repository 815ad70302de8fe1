namespace TSViz.Plugins.History;

/// <summary>
/// The compact record every scored window leaves (and every insufficient_data result, with no score).
/// <see cref="Id"/> is the idempotency key: machine, window end and model version.
/// </summary>
public sealed record WindowRecord
{
    /// <summary>"{machine}:{window end, ISO 8601}:{model}/{version}": the same window scored by the same model has the same id.</summary>
    public required string Id { get; init; }

    /// <summary>The machine the window came from (its id in the input topic).</summary>
    public required string Machine { get; init; }

    /// <summary>The model that scored it: "{name} {version}".</summary>
    public required string ModelVersion { get; init; }

    /// <summary>The time of the window's first sample.</summary>
    public DateTimeOffset WindowStart { get; init; }

    /// <summary>The time of the window's last sample (the data clock, not the time it was scored).</summary>
    public required DateTimeOffset WindowEnd { get; init; }

    /// <summary>Null for an insufficient_data result.</summary>
    public float? Score { get; init; }

    /// <summary>Whether the score is at or above the model's threshold; null without a score or a threshold.</summary>
    public bool? Decision { get; init; }

    /// <summary>anomaly, normal or insufficient_data.</summary>
    public required string ReasonCode { get; init; }

    /// <summary>Each channel's share of the input saliency (they sum to 1).</summary>
    public IReadOnlyDictionary<string, float> ChannelContributions { get; init; } = new Dictionary<string, float>();

    /// <summary>The channel with the largest contribution.</summary>
    public string? DominantChannel { get; init; }

    /// <summary>Channel and step of the largest input saliency.</summary>
    public string? TopStepChannel { get; init; }

    /// <summary>The step (0 = oldest sample) of the largest input saliency, in <see cref="TopStepChannel"/>.</summary>
    public int? TopStep { get; init; }

    /// <summary>The most influential filters of the window, most influential first.</summary>
    public IReadOnlyList<InfluentialFilter> TopFilters { get; init; } = [];

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

    /// <summary>
    /// The window's drift features (<see cref="Drift.DriftFeatures"/>), kept so the nightly analysis can build drift
    /// references; written, not read back by the history's queries.
    /// </summary>
    public float[]? DriftFeatures { get; init; }
}
