using TSViz.Explain.Data;

namespace TSViz.Explain.Evaluation;

/// <summary>Whether an attribution's top cell hits a planted spike: exactly, and on its channel within one step.</summary>
/// <param name="Exact">The top cell is the spiked cell.</param>
/// <param name="WithinOneStep">The top cell is on the spiked channel, at most one step from the spike.</param>
public readonly record struct PointingHit(bool Exact, bool WithinOneStep);

/// <summary>
/// Attributions against the known truth of the reference anomaly workload, where the one cell that makes a window
/// anomalous is planted (<see cref="PlantedSpike"/>): pointing (is the largest |A| on it?) and the average precision
/// of |A| as a detector of the spiked cell.
/// </summary>
public static class SpikeGroundTruth
{
    /// <summary>
    /// Pointing of <paramref name="attribution"/> (channel-major, windows of <paramref name="length"/> steps) at
    /// <paramref name="spike"/>; the top cell is the largest |A|, the lower index on ties.
    /// </summary>
    public static PointingHit Pointing(ReadOnlySpan<float> attribution, PlantedSpike spike, int length)
    {
        if (!spike.IsAnomaly)
        {
            throw new ArgumentException("Pointing needs a window with a planted spike.", nameof(spike));
        }

        int top = CellRemoval.Order(attribution)[0];
        int channel = top / length, step = top % length;
        return new PointingHit(channel == spike.Channel && step == spike.Step, channel == spike.Channel && Math.Abs(step - spike.Step) <= 1);
    }

    /// <summary>
    /// Average precision of ranking the cells by |A| (largest first, lower index on ties) against the relevant cells:
    /// AP = (1 / |R|) sum over the ranks k of a relevant cell of precision@k. With the single spiked cell as R it is
    /// 1 / (the spike's rank).
    /// </summary>
    public static double AveragePrecision(ReadOnlySpan<float> attribution, IReadOnlyCollection<int> relevant)
    {
        ArgumentNullException.ThrowIfNull(relevant);
        if (relevant.Count == 0)
        {
            throw new ArgumentException("Average precision needs at least one relevant cell.", nameof(relevant));
        }

        var set = relevant as IReadOnlySet<int> ?? relevant.ToHashSet();
        var order = CellRemoval.Order(attribution);
        int hits = 0;
        double sum = 0;
        for (int k = 0; k < order.Length && hits < set.Count; k++)
        {
            if (set.Contains(order[k]))
            {
                hits++;
                sum += (double)hits / (k + 1);
            }
        }

        return sum / set.Count;
    }
}
