namespace TSViz.Plugins.History;

/// <summary>
/// Recurring fault patterns: alerts of one model version grouped by how alike their explanations are
/// (<see cref="PatternSimilarity"/>: the peak's saliency pattern, up to a small shift in time, and every filter's
/// influence). Complete linkage, cut
/// at a similarity: every two alerts of a pattern are at least that similar, so a pattern is one kind of fault, never
/// a chain of gradually different ones. A pattern's id is derived from its earliest alert's id, so it stays the same
/// from one night to the next while that alert stays in it.
/// </summary>
public static class PatternClustering
{
    /// <summary>
    /// The pattern of each alert (all of one model version), in the alerts' order. Alerts of different signature
    /// layouts never share a pattern.
    /// </summary>
    /// <param name="alerts">The alerts, with their signatures.</param>
    /// <param name="minSimilarity">Every two alerts of a pattern are at least this similar (<see cref="PatternSimilarity.Of"/>).</param>
    public static IReadOnlyList<PatternAssignment> Cluster(IReadOnlyList<AlertRecord> alerts, double minSimilarity)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        int n = alerts.Count;
        if (n == 0)
        {
            return [];
        }

        // Distances 1 - similarity; alerts of another layout never merge.
        var distance = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                bool comparable = alerts[i].Signature.Length == alerts[j].Signature.Length && alerts[i].SignatureSaliencyLength == alerts[j].SignatureSaliencyLength
                    && alerts[i].Signature.Length > 0;
                distance[i, j] = distance[j, i] = comparable ? 1 - PatternSimilarity.Of(alerts[i], alerts[j]) : double.PositiveInfinity;
            }
        }

        // Complete linkage on the matrix, merging while the closest pair of clusters is within the cut: the merges
        // above it are never needed. The row of a merged cluster keeps the larger distance of its two parts.
        double cut = 1 - minSimilarity;
        var cluster = Enumerable.Range(0, n).ToArray();
        var active = Enumerable.Repeat(true, n).ToArray();
        while (true)
        {
            int a = -1, b = -1;
            double closest = double.PositiveInfinity;
            for (int i = 0; i < n; i++)
            {
                if (!active[i])
                {
                    continue;
                }

                for (int j = i + 1; j < n; j++)
                {
                    if (active[j] && distance[i, j] < closest)
                    {
                        (closest, a, b) = (distance[i, j], i, j);
                    }
                }
            }

            if (a < 0 || closest > cut)
            {
                break;
            }

            for (int k = 0; k < n; k++)
            {
                distance[a, k] = distance[k, a] = Math.Max(distance[a, k], distance[b, k]);
            }

            active[b] = false;
            for (int k = 0; k < n; k++)
            {
                if (cluster[k] == b)
                {
                    cluster[k] = a;
                }
            }
        }

        // Each cluster named after its earliest alert (ties: the smaller id).
        var names = Enumerable.Range(0, n).GroupBy(i => cluster[i])
            .ToDictionary(g => g.Key, g => PatternIds.Of(g.Select(i => alerts[i]).OrderBy(x => x.Since).ThenBy(x => x.Id, StringComparer.Ordinal).First().Id));
        return [.. Enumerable.Range(0, n).Select(i => new PatternAssignment(alerts[i].Id, names[cluster[i]]))];
    }
}

/// <summary>
/// How alike two alerts' explanations are as kinds of fault: <see cref="AlertSimilarity"/>, except that the saliency
/// patterns are compared up to a shift in time of at most a fifth of the window (the same shift for every channel), so
/// the same fault seen a few steps earlier or later in its peak window is the same pattern. The channels are those of
/// the alerts' channel contributions; without them the plain similarity is used.
/// </summary>
public static class PatternSimilarity
{
    /// <summary>The mean of the shift-tolerant cosine of the saliency patterns and the cosine of the filter influences.</summary>
    /// <param name="a">One alert.</param>
    /// <param name="b">The other, of the same signature layout.</param>
    public static double Of(AlertRecord a, AlertRecord b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int split = a.SignatureSaliencyLength, channels = a.ChannelContributions.Count;
        if (channels < 1 || split % channels != 0 || channels != b.ChannelContributions.Count || split != b.SignatureSaliencyLength || a.Signature.Length != b.Signature.Length)
        {
            return AlertSimilarity.Similarity(a, b);
        }

        int length = split / channels, maxShift = length / 5;
        var x = a.Signature.AsSpan(0, split);
        var y = b.Signature.AsSpan(0, split);
        double nx = Dot(x, x), ny = Dot(y, y);
        double saliency = 0;
        if (nx > 0 && ny > 0)
        {
            double best = double.NegativeInfinity;
            for (int shift = -maxShift; shift <= maxShift; shift++)
            {
                double dot = 0;
                for (int c = 0; c < channels; c++)
                {
                    int from = Math.Max(0, -shift), to = Math.Min(length, length - shift);
                    dot += Dot(x.Slice((c * length) + from, to - from), y.Slice((c * length) + from + shift, to - from));
                }

                best = Math.Max(best, dot);
            }

            saliency = best / Math.Sqrt(nx * ny);
        }

        if (split == a.Signature.Length)
        {
            return saliency;
        }

        return (saliency + AlertSimilarity.Cosine(a.Signature.AsSpan(split), b.Signature.AsSpan(split))) / 2;
    }

    private static double Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sum += (double)x[i] * y[i];
        }

        return sum;
    }
}
