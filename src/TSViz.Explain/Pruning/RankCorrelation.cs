namespace TSViz.Explain.Pruning;

/// <summary>Spearman's rank correlation: Pearson's correlation of the two samples' ranks, tied values sharing their average rank.</summary>
public static class RankCorrelation
{
    /// <summary>
    /// Spearman's rho of <paramref name="x"/> and <paramref name="y"/> (same length), in [-1, 1]; NaN when either
    /// sample has fewer than two distinct values (its ranks have no spread).
    /// </summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count)
        {
            throw new ArgumentException($"The samples differ in length ({x.Count} and {y.Count}).", nameof(y));
        }

        var rx = AverageRanks(x);
        var ry = AverageRanks(y);
        double mean = (x.Count + 1) / 2.0; // the mean of ranks 1..n, ties or not
        double covariance = 0, varianceX = 0, varianceY = 0;
        for (int i = 0; i < rx.Length; i++)
        {
            double dx = rx[i] - mean;
            double dy = ry[i] - mean;
            covariance += dx * dy;
            varianceX += dx * dx;
            varianceY += dy * dy;
        }

        return varianceX == 0 || varianceY == 0 ? double.NaN : Math.Clamp(covariance / Math.Sqrt(varianceX * varianceY), -1, 1);
    }

    /// <summary>Ranks 1..n, smallest value first; a run of equal values gets the average of the ranks it spans.</summary>
    public static double[] AverageRanks(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start + 1;
            while (end < order.Length && values[order[end]] == values[order[start]])
            {
                end++;
            }

            double rank = (start + 1 + end) / 2.0; // average of ranks start+1 .. end
            for (int k = start; k < end; k++)
            {
                ranks[order[k]] = rank;
            }

            start = end;
        }

        return ranks;
    }
}
