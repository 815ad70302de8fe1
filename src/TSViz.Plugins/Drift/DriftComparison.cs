namespace TSViz.Plugins.Drift;

/// <summary>The three kinds of drift and the components each is the largest of.</summary>
public static class DriftKinds
{
    /// <summary>The inputs: each channel's window level and spread.</summary>
    public const string Input = "input";

    /// <summary>The score.</summary>
    public const string Score = "score";

    /// <summary>The reasons: each channel's saliency share, the top filters, the saliency's place in time.</summary>
    public const string Explanation = "explanation";

    /// <summary>All three, in the order they are reported.</summary>
    public static IReadOnlyList<string> All { get; } = [Input, Score, Explanation];
}

/// <summary>One compared distribution and how far it moved.</summary>
/// <param name="Kind">Its kind (<see cref="DriftKinds"/>).</param>
/// <param name="Component">level, spread, score, share, filters or time.</param>
/// <param name="Channel">The channel (level, spread and share).</param>
/// <param name="Divergence">The Jensen-Shannon divergence of the current from the reference distribution, in bits (0-1).</param>
public sealed record DriftComponent(string Kind, string Component, string? Channel, double Divergence);

/// <summary>
/// Compares binned distributions with the Jensen-Shannon divergence (base 2: 0 for equal distributions, 1 for
/// disjoint ones), symmetric and finite with empty bins, unlike the population stability index.
/// </summary>
public static class DriftComparison
{
    /// <summary>The Jensen-Shannon divergence of two distributions over the same bins, in bits.</summary>
    public static double JensenShannon(IReadOnlyList<double> p, IReadOnlyList<double> q)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(q);
        if (p.Count != q.Count)
        {
            throw new ArgumentException($"the distributions have {p.Count} and {q.Count} bins", nameof(q));
        }

        double sum = 0;
        for (int i = 0; i < p.Count; i++)
        {
            double m = 0.5 * (p[i] + q[i]);
            if (p[i] > 0)
            {
                sum += 0.5 * p[i] * Math.Log2(p[i] / m);
            }

            if (q[i] > 0)
            {
                sum += 0.5 * q[i] * Math.Log2(q[i] / m);
            }
        }

        return Math.Clamp(sum, 0, 1);
    }

    /// <summary>Every component's divergence of <paramref name="current"/> from <paramref name="reference"/> (same bins).</summary>
    public static IReadOnlyList<DriftComponent> Compare(DriftTally current, DriftTally reference, IReadOnlyList<string> channels)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(channels);
        var components = new List<DriftComponent>((3 * channels.Count) + 3);
        for (int c = 0; c < channels.Count; c++)
        {
            components.Add(new(DriftKinds.Input, "level", channels[c], Binned(current.Level[c], reference.Level[c])));
            components.Add(new(DriftKinds.Input, "spread", channels[c], Binned(current.Spread[c], reference.Spread[c])));
        }

        components.Add(new(DriftKinds.Score, "score", null, Binned(current.Score, reference.Score)));
        for (int c = 0; c < channels.Count; c++)
        {
            components.Add(new(DriftKinds.Explanation, "share", channels[c], Binned(current.Share[c], reference.Share[c])));
        }

        components.Add(new(DriftKinds.Explanation, "filters", null, Binned(current.Filters, reference.Filters)));
        components.Add(new(DriftKinds.Explanation, "time", null, JensenShannon(DriftTally.MassDistribution(current.Mass), DriftTally.MassDistribution(reference.Mass))));
        return components;
    }

    /// <summary>Each kind's value: the largest divergence among its components.</summary>
    public static IReadOnlyDictionary<string, double> ByKind(IReadOnlyList<DriftComponent> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        return DriftKinds.All.ToDictionary(k => k, k => components.Where(c => c.Kind == k).Select(c => c.Divergence).DefaultIfEmpty(0).Max(), StringComparer.Ordinal);
    }

    private static double Binned(double[] current, double[] reference)
        => JensenShannon(DriftTally.Probabilities(current), DriftTally.Probabilities(reference));
}
