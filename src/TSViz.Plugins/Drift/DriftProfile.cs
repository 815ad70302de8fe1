namespace TSViz.Plugins.Drift;

/// <summary>
/// A binned distribution: the inner bin edges (strictly increasing; a value v falls in the bin of the number of edges at
/// or below it) and each bin's probability in the reference, smoothed so that no bin is empty.
/// </summary>
/// <param name="Edges">The inner edges; <c>Edges.Count + 1</c> bins.</param>
/// <param name="Probabilities">Each bin's reference probability.</param>
public sealed record DriftHistogram(IReadOnlyList<double> Edges, IReadOnlyList<double> Probabilities)
{
    /// <summary>The bin of <paramref name="value"/>.</summary>
    public int Bin(double value)
    {
        int lo = 0;
        int hi = Edges.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (Edges[mid] <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}

/// <summary>
/// The reference null levels: the largest divergence of one rolling block of consecutive reference windows from the
/// rest of the reference, per kind, times the margin. A live divergence above it is evidence of drift.
/// </summary>
/// <param name="Input">Input drift's null level (bits).</param>
/// <param name="Score">Score drift's null level (bits).</param>
/// <param name="Explanation">Explanation drift's null level (bits).</param>
public sealed record DriftThresholds(double Input, double Score, double Explanation);

/// <summary>
/// A machine's reference profile for one model version, built from a period of normal windows: per channel the
/// distribution of the window's level and spread, the score distribution, each channel's saliency share, the top-filter
/// frequencies and the saliency mass by stretch of time; with the null levels calibrated on the reference itself.
/// </summary>
public sealed record DriftProfile
{
    /// <summary>The machine.</summary>
    public required string Machine { get; init; }

    /// <summary>The model version whose explanations it describes.</summary>
    public required string ModelVersion { get; init; }

    /// <summary>When it was built.</summary>
    public required DateTimeOffset BuiltAt { get; init; }

    /// <summary>The reference period's start (the first window's end).</summary>
    public required DateTimeOffset From { get; init; }

    /// <summary>The reference period's end (the last window's end).</summary>
    public required DateTimeOffset To { get; init; }

    /// <summary>How many normal windows it was built from.</summary>
    public required int Windows { get; init; }

    /// <summary>How many consecutive windows the live comparison rolls over (and the calibration blocks hold).</summary>
    public required int Rolling { get; init; }

    /// <summary>The model's channels, in order.</summary>
    public required IReadOnlyList<string> Channels { get; init; }

    /// <summary>Per channel, the window mean's distribution (sensor units).</summary>
    public required IReadOnlyList<DriftHistogram> Level { get; init; }

    /// <summary>Per channel, the window standard deviation's distribution (sensor units).</summary>
    public required IReadOnlyList<DriftHistogram> Spread { get; init; }

    /// <summary>The score's distribution.</summary>
    public required DriftHistogram Score { get; init; }

    /// <summary>Per channel, the distribution of its share of the saliency.</summary>
    public required IReadOnlyList<DriftHistogram> Share { get; init; }

    /// <summary>Per channel, the mean window level.</summary>
    public required IReadOnlyList<double> LevelMeans { get; init; }

    /// <summary>Per channel, the mean window spread.</summary>
    public required IReadOnlyList<double> SpreadMeans { get; init; }

    /// <summary>Per channel, the mean saliency share.</summary>
    public required IReadOnlyList<double> ShareMeans { get; init; }

    /// <summary>The mean score.</summary>
    public required double ScoreMean { get; init; }

    /// <summary>
    /// The most frequent top filters ("layer/index") and the fraction of windows that had each among their top filters;
    /// every other filter counts as <see cref="DriftTally.OtherFilter"/>.
    /// </summary>
    public required IReadOnlyDictionary<string, double> Filters { get; init; }

    /// <summary>The mean share of the saliency in each stretch of the window's time (<see cref="DriftFeatures.Segments"/>).</summary>
    public required IReadOnlyList<double> SaliencyMass { get; init; }

    /// <summary>The null levels.</summary>
    public required DriftThresholds Thresholds { get; init; }
}
