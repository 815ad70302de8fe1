namespace TSViz.Explain.Clustering;

/// <summary>
/// The silhouette score (Rousseeuw 1987) on precomputed distances: per item s = (b - a) / max(a, b), a the mean
/// distance to the other members of its cluster, b the smallest mean distance to another cluster; s = 0 for an
/// item alone in its cluster; the score is the mean over items (as scikit-learn computes it).
/// </summary>
public static class Silhouette
{
    /// <summary>The mean silhouette of the clustering <paramref name="labels"/> (0..k-1 per item) under <paramref name="distances"/>.</summary>
    public static double Score(double[,] distances, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(distances);
        ArgumentNullException.ThrowIfNull(labels);
        int n = labels.Count;
        int clusters = labels.Max() + 1;
        if (clusters < 2 || clusters > n - 1)
        {
            throw new ArgumentException($"The silhouette needs 2..n-1 clusters; got {clusters} for {n} items.", nameof(labels));
        }

        var sizes = new int[clusters];
        foreach (int label in labels)
        {
            sizes[label]++;
        }

        double total = 0;
        var sums = new double[clusters];
        for (int i = 0; i < n; i++)
        {
            Array.Clear(sums);
            for (int j = 0; j < n; j++)
            {
                if (j != i)
                {
                    sums[labels[j]] += distances[i, j];
                }
            }

            int own = labels[i];
            if (sizes[own] == 1)
            {
                continue;
            }

            double a = sums[own] / (sizes[own] - 1);
            double b = double.PositiveInfinity;
            for (int c = 0; c < clusters; c++)
            {
                if (c != own)
                {
                    b = Math.Min(b, sums[c] / sizes[c]);
                }
            }

            double denominator = Math.Max(a, b);
            total += denominator > 0 ? (b - a) / denominator : 0;
        }

        return total / n;
    }
}
