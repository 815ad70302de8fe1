namespace TSViz.Plugins.Drift;

/// <summary>
/// Counts of windows in the bins of a profile's distributions (and sums for their means), to which windows are added and
/// from which they are taken away: the live comparison's rolling window, and the reference's calibration blocks.
/// </summary>
public sealed class DriftTally
{
    /// <summary>The category of every top filter the profile does not list.</summary>
    public const string OtherFilter = "other";

    /// <summary>The add-one-half smoothing of binned counts, so that no bin of either side is empty.</summary>
    private const double Smoothing = 0.5;

    private readonly IReadOnlyList<DriftHistogram> levelBins;
    private readonly IReadOnlyList<DriftHistogram> spreadBins;
    private readonly IReadOnlyList<DriftHistogram> shareBins;
    private readonly DriftHistogram scoreBins;
    private readonly Dictionary<string, int> filterIndex;
    private readonly int channels;

    /// <summary>A tally over the bins of these distributions and filter categories (the last is <see cref="OtherFilter"/>).</summary>
    public DriftTally(IReadOnlyList<DriftHistogram> level, IReadOnlyList<DriftHistogram> spread, IReadOnlyList<DriftHistogram> share, DriftHistogram score, IReadOnlyList<string> filters)
    {
        ArgumentNullException.ThrowIfNull(level);
        ArgumentNullException.ThrowIfNull(spread);
        ArgumentNullException.ThrowIfNull(share);
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(filters);
        channels = level.Count;
        levelBins = level;
        spreadBins = spread;
        shareBins = share;
        scoreBins = score;
        FilterKeys = [.. filters.Where(f => f != OtherFilter), OtherFilter];
        filterIndex = FilterKeys.Select((f, i) => (f, i)).ToDictionary(p => p.f, p => p.i, StringComparer.Ordinal);
        Level = [.. level.Select(h => new double[h.Edges.Count + 1])];
        Spread = [.. spread.Select(h => new double[h.Edges.Count + 1])];
        Share = [.. share.Select(h => new double[h.Edges.Count + 1])];
        Score = new double[score.Edges.Count + 1];
        Filters = new double[FilterKeys.Count];
        Mass = new double[DriftFeatures.Segments];
        LevelSum = new double[channels];
        SpreadSum = new double[channels];
        ShareSum = new double[channels];
    }

    /// <summary>A tally over a profile's bins and filters.</summary>
    public DriftTally(DriftProfile profile)
        : this(profile.Level, profile.Spread, profile.Share, profile.Score, [.. profile.Filters.Keys])
    {
    }

    /// <summary>An empty tally over the same bins and filter categories.</summary>
    public DriftTally Empty() => new(levelBins, spreadBins, shareBins, scoreBins, FilterKeys);

    /// <summary>The filter categories, <see cref="OtherFilter"/> last.</summary>
    public IReadOnlyList<string> FilterKeys { get; }

    /// <summary>How many windows it holds.</summary>
    public double Count { get; private set; }

    internal double[][] Level { get; }

    internal double[][] Spread { get; }

    internal double[][] Share { get; }

    internal double[] Score { get; }

    internal double[] Filters { get; }

    internal double[] Mass { get; }

    internal double[] LevelSum { get; }

    internal double[] SpreadSum { get; }

    internal double[] ShareSum { get; }

    internal double ScoreSum { get; private set; }

    /// <summary>Where a window falls in this tally's bins (computed once, added and later taken away).</summary>
    public Binned Bin(DriftObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var f = observation.Features;
        var bins = new int[(3 * channels) + 1];
        for (int c = 0; c < channels; c++)
        {
            bins[c] = levelBins[c].Bin(DriftFeatures.Level(f, c));
            bins[channels + c] = spreadBins[c].Bin(DriftFeatures.Spread(f, channels, c));
            bins[(2 * channels) + c] = shareBins[c].Bin(c < observation.Shares.Length ? observation.Shares[c] : 0);
        }

        bins[3 * channels] = scoreBins.Bin(observation.Score);
        var filters = observation.TopFilters.Select(k => filterIndex.TryGetValue(k, out int i) ? i : FilterKeys.Count - 1).ToArray();
        return new Binned(bins, filters, observation);
    }

    /// <summary>Adds a window (<paramref name="weight"/> 1) or takes it away (-1).</summary>
    public void Add(Binned binned, double weight = 1)
    {
        ArgumentNullException.ThrowIfNull(binned);
        var o = binned.Observation;
        var f = o.Features;
        for (int c = 0; c < channels; c++)
        {
            Level[c][binned.Bins[c]] += weight;
            Spread[c][binned.Bins[channels + c]] += weight;
            Share[c][binned.Bins[(2 * channels) + c]] += weight;
            LevelSum[c] += weight * DriftFeatures.Level(f, c);
            SpreadSum[c] += weight * DriftFeatures.Spread(f, channels, c);
            ShareSum[c] += weight * (c < o.Shares.Length ? o.Shares[c] : 0);
        }

        Score[binned.Bins[3 * channels]] += weight;
        ScoreSum += weight * o.Score;
        foreach (int i in binned.Filters)
        {
            Filters[i] += weight;
        }

        var mass = DriftFeatures.Mass(f, channels);
        for (int s = 0; s < mass.Length; s++)
        {
            Mass[s] += weight * mass[s];
        }

        Count += weight;
    }

    /// <summary>Adds (<paramref name="weight"/> 1) or takes away (-1) every window of another tally over the same bins.</summary>
    public void Add(DriftTally other, double weight = 1)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int c = 0; c < channels; c++)
        {
            Accumulate(Level[c], other.Level[c], weight);
            Accumulate(Spread[c], other.Spread[c], weight);
            Accumulate(Share[c], other.Share[c], weight);
            LevelSum[c] += weight * other.LevelSum[c];
            SpreadSum[c] += weight * other.SpreadSum[c];
            ShareSum[c] += weight * other.ShareSum[c];
        }

        Accumulate(Score, other.Score, weight);
        ScoreSum += weight * other.ScoreSum;
        Accumulate(Filters, other.Filters, weight);
        Accumulate(Mass, other.Mass, weight);
        Count += weight * other.Count;
    }

    /// <summary>Loads a profile's reference distributions as the counts of its windows.</summary>
    internal void LoadReference(DriftProfile profile)
    {
        double n = profile.Windows;
        for (int c = 0; c < channels; c++)
        {
            Scale(profile.Level[c].Probabilities, n, Level[c]);
            Scale(profile.Spread[c].Probabilities, n, Spread[c]);
            Scale(profile.Share[c].Probabilities, n, Share[c]);
            LevelSum[c] = profile.LevelMeans[c] * n;
            SpreadSum[c] = profile.SpreadMeans[c] * n;
            ShareSum[c] = profile.ShareMeans[c] * n;
        }

        Scale(profile.Score.Probabilities, n, Score);
        ScoreSum = profile.ScoreMean * n;
        for (int i = 0; i < FilterKeys.Count; i++)
        {
            Filters[i] = profile.Filters.GetValueOrDefault(FilterKeys[i]) * n;
        }

        Scale(profile.SaliencyMass, n, Mass);
        Count = n;
    }

    /// <summary>The smoothed probabilities of binned counts.</summary>
    internal static double[] Probabilities(double[] counts)
    {
        double total = counts.Sum() + (Smoothing * counts.Length);
        return [.. counts.Select(c => (Math.Max(0, c) + Smoothing) / total)];
    }

    /// <summary>A saliency mass tally as a distribution (uniform when no window was explained).</summary>
    internal static double[] MassDistribution(double[] mass)
    {
        double total = mass.Sum(m => Math.Max(0, m));
        return total <= 0 ? [.. mass.Select(_ => 1.0 / mass.Length)] : [.. mass.Select(m => (Math.Max(0, m) + 1e-6) / (total + (1e-6 * mass.Length)))];
    }

    private static void Accumulate(double[] into, double[] from, double weight)
    {
        for (int i = 0; i < into.Length; i++)
        {
            into[i] += weight * from[i];
        }
    }

    private static void Scale(IReadOnlyList<double> probabilities, double n, double[] into)
    {
        for (int i = 0; i < into.Length; i++)
        {
            into[i] = probabilities[i] * n;
        }
    }

    /// <summary>A window's bins: level, spread and share per channel, then the score; its filter categories.</summary>
    /// <param name="Bins">The bin indices.</param>
    /// <param name="Filters">The filter category indices.</param>
    /// <param name="Observation">The window.</param>
    public sealed record Binned(int[] Bins, int[] Filters, DriftObservation Observation);
}
