namespace TSViz.Plugins.Drift;

/// <summary>
/// A window's compact drift features, kept with its history record so the nightly analysis can build a reference from
/// every window of a period in stream order: each channel's mean (its level) and standard deviation (its spread) in
/// sensor units, then the share of the window's saliency in each of <see cref="Segments"/> equal stretches of time.
/// </summary>
public static class DriftFeatures
{
    /// <summary>How many stretches of time the saliency mass is summed over.</summary>
    public const int Segments = 10;

    /// <summary>The number of features of a window of <paramref name="channels"/> channels.</summary>
    public static int Size(int channels) => (2 * channels) + Segments;

    /// <summary>
    /// The features of a window (channel c, step t at c * length + t) and its saliency (same layout; empty when the
    /// window was not explained, then the saliency part is zero).
    /// </summary>
    public static float[] Of(ReadOnlySpan<float> values, int channels, int length, ReadOnlySpan<float> saliency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        if (values.Length != channels * length)
        {
            throw new ArgumentException($"expected {channels * length} values, got {values.Length}", nameof(values));
        }

        var features = new float[Size(channels)];
        for (int c = 0; c < channels; c++)
        {
            var row = values.Slice(c * length, length);
            double sum = 0;
            foreach (float v in row)
            {
                sum += v;
            }

            double mean = sum / length;
            double squares = 0;
            foreach (float v in row)
            {
                squares += (v - mean) * (v - mean);
            }

            features[c] = (float)mean;
            features[channels + c] = (float)Math.Sqrt(squares / length);
        }

        if (saliency.Length == channels * length)
        {
            var mass = features.AsSpan(2 * channels);
            double total = 0;
            for (int c = 0; c < channels; c++)
            {
                for (int t = 0; t < length; t++)
                {
                    double s = Math.Abs(saliency[(c * length) + t]);
                    mass[(int)((long)t * Segments / length)] += (float)s;
                    total += s;
                }
            }

            if (total > 0)
            {
                for (int s = 0; s < Segments; s++)
                {
                    mass[s] = (float)(mass[s] / total);
                }
            }
        }

        return features;
    }

    /// <summary>Channel <paramref name="channel"/>'s mean in the window.</summary>
    public static float Level(ReadOnlySpan<float> features, int channel) => features[channel];

    /// <summary>Channel <paramref name="channel"/>'s standard deviation in the window.</summary>
    public static float Spread(ReadOnlySpan<float> features, int channels, int channel) => features[channels + channel];

    /// <summary>The saliency mass by stretch of time (sums to 1, or all 0 when the window was not explained).</summary>
    public static ReadOnlySpan<float> Mass(ReadOnlySpan<float> features, int channels) => features.Slice(2 * channels, Segments);
}

/// <summary>What drift detection sees of one window.</summary>
/// <param name="At">The window's end.</param>
/// <param name="Score">The model's score.</param>
/// <param name="Shares">Each channel's share of the saliency (the channel contributions), in the model's channel order.</param>
/// <param name="TopFilters">The window's top filters, as "layer/index".</param>
/// <param name="Features">The window's <see cref="DriftFeatures"/>.</param>
public sealed record DriftObservation(DateTimeOffset At, float Score, float[] Shares, IReadOnlyList<string> TopFilters, float[] Features)
{
    /// <summary>How a top filter is named in <see cref="TopFilters"/> and in a profile: "layer/index".</summary>
    public static string FilterKey(string layer, int index) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{layer}/{index}");
}
