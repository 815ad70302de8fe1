namespace TSViz.Plugins.Drift;

/// <summary>
/// Builds a machine's reference profile from its normal windows of a reference period, in stream order. The bins are
/// the reference's deciles, with one bin below and one above its range. The null levels are calibrated on the reference itself, which keeps the stream's
/// autocorrelation: every rolling block of consecutive windows (sliding by a tenth of a block) is compared with the
/// rest of the reference, and each kind's null level is the largest divergence seen, times a margin. No test that
/// assumes independent samples is used: consecutive windows overlap and the sensors wander.
/// </summary>
public static class DriftProfileBuilder
{
    /// <summary>Bins per distribution within the reference's range (fewer where it has fewer distinct values), besides one below and one above it.</summary>
    public const int Bins = 10;

    /// <summary>The most frequent top filters a profile lists; the rest count as <see cref="DriftTally.OtherFilter"/>.</summary>
    public const int MaxFilters = 24;

    /// <summary>The smallest null level, so a perfectly steady reference does not make every wobble drift.</summary>
    public const double MinimumThreshold = 1e-3;

    /// <summary>
    /// The profile of <paramref name="observations"/> (one machine, one model version, in stream order); null when there
    /// are fewer than four rolling blocks of them, too few to calibrate.
    /// </summary>
    public static DriftProfile? Build(
        string machine, string modelVersion, IReadOnlyList<string> channels, IReadOnlyList<DriftObservation> observations, int rolling, double margin, DateTimeOffset builtAt)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(machine);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelVersion);
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(observations);
        ArgumentOutOfRangeException.ThrowIfLessThan(rolling, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(margin, 1.0);
        int n = observations.Count;
        if (n < 4 * rolling)
        {
            return null;
        }

        int size = DriftFeatures.Size(channels.Count);
        if (observations.Any(o => o.Features.Length != size))
        {
            throw new ArgumentException($"every window needs {size} drift features for {channels.Count} channels", nameof(observations));
        }

        int k = channels.Count;
        var level = Enumerable.Range(0, k).Select(c => Edges(observations.Select(o => (double)DriftFeatures.Level(o.Features, c)))).ToList();
        var spread = Enumerable.Range(0, k).Select(c => Edges(observations.Select(o => (double)DriftFeatures.Spread(o.Features, k, c)))).ToList();
        var share = Enumerable.Range(0, k).Select(c => Edges(observations.Select(o => c < o.Shares.Length ? (double)o.Shares[c] : 0))).ToList();
        var score = Edges(observations.Select(o => (double)o.Score));
        var filters = observations.SelectMany(o => o.TopFilters).GroupBy(f => f, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(MaxFilters).Select(g => g.Key).ToList();

        var total = new DriftTally(level, spread, share, score, filters);
        var binned = observations.Select(total.Bin).ToArray();
        foreach (var b in binned)
        {
            total.Add(b);
        }

        var thresholds = Calibrate(total, binned, channels, rolling);
        DriftHistogram WithProbabilities(DriftHistogram h, double[] counts) => h with { Probabilities = [.. DriftTally.Probabilities(counts)] };
        return new DriftProfile
        {
            Machine = machine,
            ModelVersion = modelVersion,
            BuiltAt = builtAt,
            From = observations[0].At,
            To = observations[^1].At,
            Windows = n,
            Rolling = rolling,
            Channels = [.. channels],
            Level = [.. level.Select((h, c) => WithProbabilities(h, total.Level[c]))],
            Spread = [.. spread.Select((h, c) => WithProbabilities(h, total.Spread[c]))],
            Share = [.. share.Select((h, c) => WithProbabilities(h, total.Share[c]))],
            Score = WithProbabilities(score, total.Score),
            LevelMeans = [.. total.LevelSum.Select(s => s / n)],
            SpreadMeans = [.. total.SpreadSum.Select(s => s / n)],
            ShareMeans = [.. total.ShareSum.Select(s => s / n)],
            ScoreMean = total.ScoreSum / n,
            Filters = total.FilterKeys.Select((f, i) => (f, i)).ToDictionary(p => p.f, p => total.Filters[p.i] / n, StringComparer.Ordinal),
            SaliencyMass = [.. DriftTally.MassDistribution(total.Mass)],
            Thresholds = new DriftThresholds(
                NullLevel(thresholds[DriftKinds.Input], margin, rolling),
                NullLevel(thresholds[DriftKinds.Score], margin, rolling),
                NullLevel(thresholds[DriftKinds.Explanation], margin, rolling)),
        };
    }

    /// <summary>
    /// A kind's null level: its largest block divergence times the margin, but at most halfway from it to the divergence a
    /// rolling window can reach at all (every window beyond the reference's range), since the divergence is bounded:
    /// a margin that put the level out of reach would make that kind blind.
    /// </summary>
    internal static double NullLevel(double largest, double margin, int rolling)
    {
        double reach = Reachable(rolling);
        double level = largest >= reach ? largest : Math.Min(largest * margin, largest + ((reach - largest) / 2));
        return Math.Max(MinimumThreshold, level);
    }

    /// <summary>
    /// The divergence of a rolling window of <paramref name="rolling"/> windows that all fall beyond the reference's range
    /// from a reference spread evenly over its deciles: the most a binned component can show, after smoothing.
    /// </summary>
    internal static double Reachable(int rolling)
    {
        int bins = Bins + 2;
        var current = new double[bins];
        current[^1] = rolling;
        var reference = new double[bins];
        for (int i = 1; i <= Bins; i++)
        {
            reference[i] = 1e6 / Bins;
        }

        return DriftComparison.JensenShannon(DriftTally.Probabilities(current), DriftTally.Probabilities(reference));
    }

    /// <summary>Each kind's largest divergence of a rolling block of consecutive windows from the rest of the reference.</summary>
    private static Dictionary<string, double> Calibrate(DriftTally total, DriftTally.Binned[] binned, IReadOnlyList<string> channels, int rolling)
    {
        var largest = DriftKinds.All.ToDictionary(k => k, _ => 0.0, StringComparer.Ordinal);
        var block = total.Empty();
        var rest = total.Empty();
        rest.Add(total);
        for (int i = 0; i < rolling; i++)
        {
            block.Add(binned[i]);
            rest.Add(binned[i], -1);
        }

        int stride = Math.Max(1, rolling / 10);
        for (int start = 0; ; start += stride)
        {
            foreach (var (kind, value) in DriftComparison.ByKind(DriftComparison.Compare(block, rest, channels)))
            {
                largest[kind] = Math.Max(largest[kind], value);
            }

            if (start + stride + rolling > binned.Length)
            {
                break;
            }

            for (int i = start; i < start + stride; i++)
            {
                block.Add(binned[i], -1);
                rest.Add(binned[i]);
                block.Add(binned[i + rolling]);
                rest.Add(binned[i + rolling], -1);
            }
        }

        return largest;
    }

    /// <summary>
    /// The inner edges: the reference's smallest value, its deciles and its largest value, strictly increasing; so a
    /// value beyond everything the reference saw falls in a bin of its own (nearly empty in the reference) and a move
    /// out of the reference's range counts for more than a move within its top tenth.
    /// </summary>
    private static DriftHistogram Edges(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        var edges = new List<double>(Bins + 1);
        if (sorted.Length > 0)
        {
            for (int i = 0; i <= Bins; i++)
            {
                double q = sorted[Math.Min(sorted.Length - 1, (int)((long)i * sorted.Length / Bins))];
                if (i == Bins)
                {
                    q = sorted[^1] + Math.Max(1e-9, Math.Abs(sorted[^1]) * 1e-9); // the largest value falls below it
                }

                if (edges.Count == 0 || q > edges[^1])
                {
                    edges.Add(q);
                }
            }
        }

        return new DriftHistogram(edges, [.. Enumerable.Repeat(1.0 / (edges.Count + 1), edges.Count + 1)]);
    }
}
