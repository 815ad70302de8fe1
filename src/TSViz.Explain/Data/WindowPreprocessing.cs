namespace TSViz.Explain.Data;

/// <summary>Preprocessing a model declares in its metadata and the monitor applies before scoring.</summary>
public static class WindowPreprocessing
{
    /// <summary>Metadata value of per-window, per-channel z-scoring.</summary>
    public const string ZScorePerChannel = "zscore_per_channel_per_window";

    /// <summary>Metadata value of "feed the values as they are".</summary>
    public const string None = "none";

    /// <summary>The values a model may declare.</summary>
    public static readonly IReadOnlyList<string> Known = [ZScorePerChannel, None];

    /// <summary>Smallest standard deviation used as a divisor, so a flat channel maps to zeros, not NaN.</summary>
    public const float MinStd = 1e-6f;

    /// <summary>
    /// Z-scores each channel of one window in place (population standard deviation, as numpy's std).
    /// <paramref name="window"/> is channel-major: channels x length. Returns the last channel's divisor.
    /// </summary>
    public static double ZScoreInPlace(Span<float> window, int channels, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(window.Length, channels * length, nameof(window));
        double divisor = 1;
        for (int c = 0; c < channels; c++)
        {
            var channel = window.Slice(c * length, length);
            double mean = 0;
            foreach (float v in channel)
            {
                mean += v;
            }

            mean /= length;
            double variance = 0;
            foreach (float v in channel)
            {
                variance += (v - mean) * (v - mean);
            }

            double std = Math.Max(Math.Sqrt(variance / length), MinStd);
            for (int t = 0; t < length; t++)
            {
                channel[t] = (float)((channel[t] - mean) / std);
            }

            divisor = std;
        }

        return divisor;
    }

    /// <summary>Applies the named preprocessing to every window of a batch (N x channels x length) in place.</summary>
    public static void Apply(string preprocessing, Span<float> batch, int channels, int length)
    {
        switch (preprocessing)
        {
            case None:
                return;
            case ZScorePerChannel:
                int size = channels * length;
                for (int offset = 0; offset < batch.Length; offset += size)
                {
                    ZScoreInPlace(batch.Slice(offset, size), channels, length);
                }

                return;
            default:
                throw new ArgumentException(
                    $"Unknown preprocessing '{preprocessing}'; known: {string.Join(", ", Known)}.", nameof(preprocessing));
        }
    }
}
