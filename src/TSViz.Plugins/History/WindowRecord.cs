namespace TSViz.Plugins.History;

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
