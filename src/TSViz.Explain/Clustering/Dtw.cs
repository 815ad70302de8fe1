namespace TSViz.Explain.Clustering;

/// <summary>
/// Dynamic time warping (Eq. 20-21): DTW[i, j] = d(a_i, b_j) + min(DTW[i-1, j], DTW[i, j-1], DTW[i-1, j-1]) with the
/// Euclidean point cost |a_i - b_j|; the distance is DTW[n, m]. Exact (no window), O(n m) time, O(m) memory.
/// </summary>
public static class Dtw
{
    /// <summary>The DTW distance DTW[n, m] of two non-empty sequences.</summary>
    public static double Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.IsEmpty || b.IsEmpty)
        {
            throw new ArgumentException("DTW needs two non-empty sequences.");
        }

        Span<double> previous = b.Length <= 256 ? stackalloc double[b.Length] : new double[b.Length];
        Span<double> current = b.Length <= 256 ? stackalloc double[b.Length] : new double[b.Length];
        double running = 0;
        for (int j = 0; j < b.Length; j++)
        {
            running += Math.Abs(a[0] - b[j]);
            previous[j] = running;
        }

        for (int i = 1; i < a.Length; i++)
        {
            current[0] = previous[0] + Math.Abs(a[i] - b[0]);
            for (int j = 1; j < b.Length; j++)
            {
                double best = Math.Min(previous[j], Math.Min(current[j - 1], previous[j - 1]));
                current[j] = Math.Abs(a[i] - b[j]) + best;
            }

            var swap = previous;
            previous = current;
            current = swap;
        }

        return previous[b.Length - 1];
    }
}
