namespace TSViz.Explain.Evaluation;

/// <summary>
/// Max-sensitivity (Yeh et al. 2019, as Captum's captum.metrics.sensitivity_max computes it): the attribution method
/// is run again on copies of the window perturbed uniformly within an L-infinity ball of radius r, and
/// SENS_max = max over the copies of ||A(x + d) - A(x)||_F / ||A(x)||_F (a zero ||A(x)|| counts as 1, as in Captum).
/// Low values: the explanation does not jump under changes too small to matter.
/// </summary>
public static class MaxSensitivity
{
    /// <summary>
    /// <paramref name="samples"/> copies of each of <paramref name="count"/> windows (window-major: all copies of
    /// window 0 first), each cell moved by a uniform draw in [-radius, radius], seeded.
    /// </summary>
    public static float[] Perturb(ReadOnlySpan<float> windows, int count, double radius, int samples, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        int size = windows.Length / count;
        var random = new Random(seed);
        var perturbed = new float[count * samples * size];
        for (int w = 0; w < count; w++)
        {
            var window = windows.Slice(w * size, size);
            for (int k = 0; k < samples; k++)
            {
                int offset = ((w * samples) + k) * size;
                for (int i = 0; i < size; i++)
                {
                    perturbed[offset + i] = (float)(window[i] + (radius * ((2 * random.NextDouble()) - 1)));
                }
            }
        }

        return perturbed;
    }

    /// <summary>
    /// Each window's max-sensitivity: <paramref name="attributions"/> one per window, <paramref name="perturbed"/> the
    /// method's attributions of the copies <see cref="Perturb"/> made (samples per window, window-major).
    /// </summary>
    public static double[] Score(IReadOnlyList<float[]> attributions, IReadOnlyList<float[]> perturbed, int samples)
    {
        ArgumentNullException.ThrowIfNull(attributions);
        ArgumentNullException.ThrowIfNull(perturbed);
        if (perturbed.Count != attributions.Count * samples)
        {
            throw new ArgumentException($"Expected {samples} perturbed attributions per window ({attributions.Count * samples}), got {perturbed.Count}.", nameof(perturbed));
        }

        var scores = new double[attributions.Count];
        for (int w = 0; w < scores.Length; w++)
        {
            var a = attributions[w];
            double norm = Math.Sqrt(a.Sum(v => (double)v * v));
            if (norm == 0)
            {
                norm = 1;
            }

            double max = 0;
            for (int k = 0; k < samples; k++)
            {
                var b = perturbed[(w * samples) + k];
                double distance = 0;
                for (int i = 0; i < a.Length; i++)
                {
                    double d = (double)b[i] - a[i];
                    distance += d * d;
                }

                max = Math.Max(max, Math.Sqrt(distance) / norm);
            }

            scores[w] = max;
        }

        return scores;
    }
}
