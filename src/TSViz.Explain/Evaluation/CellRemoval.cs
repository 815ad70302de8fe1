using TSViz.Explain.Graph;

namespace TSViz.Explain.Evaluation;

/// <summary>How the cells an attribution ranks first are used.</summary>
public enum RemovalMode
{
    /// <summary>Deletion: the window with its first k cells set to the baseline (the score should fall fast).</summary>
    Deletion,

    /// <summary>Insertion: the baseline with the window's first k cells put back (the score should rise fast).</summary>
    Insertion,
}

/// <summary>
/// Removing the evidence an attribution points at, in the model's input space: cells (channel c, step t at
/// c * length + t) are taken in an order (the attribution's, largest |A| first, or a random one as the reference)
/// and the first k of them are set to a baseline (deletion) or kept from the window while the rest is the baseline
/// (insertion); the model then gives the explained quantity. The baseline 0 is every channel at its mean for a
/// z-scored model.
/// </summary>
public static class CellRemoval
{
    /// <summary>Windows evaluated per forward pass, to bound memory on long curves.</summary>
    private const int MaxVariantsPerPass = 2048;

    /// <summary>The cells by |attribution|, largest first (ties: lower index first).</summary>
    public static int[] Order(ReadOnlySpan<float> attribution)
    {
        var magnitude = new float[attribution.Length];
        for (int i = 0; i < magnitude.Length; i++)
        {
            magnitude[i] = Math.Abs(attribution[i]);
        }

        // OrderBy is stable: equal magnitudes keep index order.
        return [.. Enumerable.Range(0, magnitude.Length).OrderByDescending(i => magnitude[i])];
    }

    /// <summary>A uniformly random order of <paramref name="size"/> cells (Fisher-Yates).</summary>
    public static int[] RandomOrder(int size, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var order = Enumerable.Range(0, size).ToArray();
        random.Shuffle(order);
        return order;
    }

    /// <summary>How many of <paramref name="size"/> cells a fraction removes: rounded to the nearest, at least 1 for a positive fraction.</summary>
    public static int CellCount(double fraction, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fraction);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fraction, 1.0);
        int k = (int)Math.Round(fraction * size, MidpointRounding.AwayFromZero);
        return fraction > 0 ? Math.Max(1, k) : 0;
    }

    /// <summary>
    /// The explained quantity of every window after removal (or insertion) of the first k cells of its order, for
    /// every fraction: result[w][f]. <paramref name="modelInput"/> holds <paramref name="count"/> windows already in
    /// the model's input space (<see cref="Explainer.ToModelSpace"/>); <paramref name="orders"/> one order per window.
    /// </summary>
    public static double[][] Curves(
        Explainer explainer,
        float[] modelInput,
        int count,
        IReadOnlyList<int[]> orders,
        IReadOnlyList<double> fractions,
        RemovalMode mode,
        float baseline = 0,
        GradientTarget target = GradientTarget.Auto,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        ArgumentNullException.ThrowIfNull(modelInput);
        ArgumentNullException.ThrowIfNull(orders);
        ArgumentNullException.ThrowIfNull(fractions);
        int size = explainer.Metadata.Channels.Count * explainer.Metadata.WindowLength;
        explainer.CheckSize(modelInput, count);
        if (orders.Count != count)
        {
            throw new ArgumentException($"Expected one order per window ({count}), got {orders.Count}.", nameof(orders));
        }

        var counts = fractions.Select(f => CellCount(f, size)).ToArray();
        int perWindow = counts.Length;
        int windowsPerPass = Math.Max(1, MaxVariantsPerPass / Math.Max(1, perWindow));
        var result = new double[count][];
        for (int first = 0; first < count; first += windowsPerPass)
        {
            int n = Math.Min(windowsPerPass, count - first);
            var variants = new float[n * perWindow * size];
            for (int w = 0; w < n; w++)
            {
                var window = modelInput.AsSpan((first + w) * size, size);
                var order = orders[first + w];
                if (order.Length != size)
                {
                    throw new ArgumentException($"Window {first + w}'s order has {order.Length} cells, expected {size}.", nameof(orders));
                }

                for (int f = 0; f < perWindow; f++)
                {
                    var variant = variants.AsSpan(((w * perWindow) + f) * size, size);
                    if (mode == RemovalMode.Deletion)
                    {
                        window.CopyTo(variant);
                        for (int j = 0; j < counts[f]; j++)
                        {
                            variant[order[j]] = baseline;
                        }
                    }
                    else
                    {
                        variant.Fill(baseline);
                        for (int j = 0; j < counts[f]; j++)
                        {
                            variant[order[j]] = window[order[j]];
                        }
                    }
                }
            }

            var y = explainer.EvaluateModelSpace(variants, n * perWindow, target, cancellationToken: cancellationToken);
            for (int w = 0; w < n; w++)
            {
                result[first + w] = y.AsSpan(w * perWindow, perWindow).ToArray();
            }
        }

        return result;
    }

    /// <summary>
    /// Area under a curve sampled at <paramref name="fractions"/> (trapezoids), divided by the fraction range covered,
    /// so curves over different grids compare: the curve's mean height.
    /// </summary>
    public static double NormalizedArea(IReadOnlyList<double> fractions, IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(fractions);
        ArgumentNullException.ThrowIfNull(values);
        if (fractions.Count != values.Count || fractions.Count < 2)
        {
            throw new ArgumentException("A curve needs at least two points and one value per fraction.", nameof(values));
        }

        double area = 0;
        for (int i = 1; i < fractions.Count; i++)
        {
            area += (fractions[i] - fractions[i - 1]) * (values[i] + values[i - 1]) / 2;
        }

        return area / (fractions[^1] - fractions[0]);
    }
}
