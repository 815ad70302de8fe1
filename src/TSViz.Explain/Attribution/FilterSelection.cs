namespace TSViz.Explain.Attribution;

/// <summary>Choosing filters by influence: the top k, or those at or above a percentile (TSViz section VI).</summary>
public static class FilterSelection
{
    /// <summary>Indices of the <paramref name="k"/> most influential filters, most influential first.</summary>
    public static int[] TopK(ReadOnlySpan<float> influence, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        return Rank(influence).Take(k).ToArray();
    }

    /// <summary>
    /// Indices of the filters whose influence is at or above the <paramref name="percentile"/>-th percentile of the
    /// layer (0-100, linear interpolation between order statistics), most influential first.
    /// </summary>
    public static int[] AtOrAbovePercentile(ReadOnlySpan<float> influence, double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percentile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        if (influence.IsEmpty)
        {
            return [];
        }

        float cut = Percentile(influence, percentile);
        var values = influence.ToArray();
        return Rank(influence).Where(i => values[i] >= cut).ToArray();
    }

    /// <summary>Filter indices ordered by influence, descending (ties by index).</summary>
    public static int[] Rank(ReadOnlySpan<float> influence)
    {
        var order = new int[influence.Length];
        var keys = new float[influence.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
            keys[i] = -influence[i];
        }

        // Stable for ties: sort by (key, index) pairs.
        Array.Sort(keys, order);
        int start = 0;
        while (start < keys.Length)
        {
            int end = start;
            while (end + 1 < keys.Length && keys[end + 1] == keys[start])
            {
                end++;
            }

            if (end > start)
            {
                Array.Sort(order, start, end - start + 1);
            }

            start = end + 1;
        }

        return order;
    }

    /// <summary>The p-th percentile (0-100) with linear interpolation, as numpy's default.</summary>
    public static float Percentile(ReadOnlySpan<float> values, double percentile)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        double position = percentile / 100 * (sorted.Length - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, sorted.Length - 1);
        double fraction = position - lower;
        return (float)(sorted[lower] + ((sorted[upper] - sorted[lower]) * fraction));
    }

    /// <summary>Min-max scaling to 0-1 (Eq. 14); all zeros when the values are all equal.</summary>
    /// <param name="values">The values to scale.</param>
    /// <returns>A new array of the scaled values.</returns>
    public static float[] MinMaxScale(ReadOnlySpan<float> values)
    {
        var scaled = new float[values.Length];
        MinMaxScale(values, scaled);
        return scaled;
    }

    /// <summary>Min-max scaling to 0-1 (Eq. 14) into <paramref name="destination"/>; all zeros when the values are all equal.</summary>
    /// <param name="values">The values to scale.</param>
    /// <param name="destination">Receives the scaled values; at least as long as <paramref name="values"/>.</param>
    public static void MinMaxScale(ReadOnlySpan<float> values, Span<float> destination)
    {
        if (destination.Length < values.Length)
        {
            throw new ArgumentException($"The destination holds {destination.Length} values, {values.Length} are scaled.", nameof(destination));
        }

        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in values)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        float range = max - min;
        for (int i = 0; i < values.Length; i++)
        {
            destination[i] = range > 0 ? (values[i] - min) / range : 0f;
        }
    }
}
