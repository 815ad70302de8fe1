using TSViz.Explain.Compiled;
using TSViz.Explain.Data;
using TSViz.Explain.Graph;
using TSViz.Explain.Onnx;
using TSViz.Explain.Runtime;
using static TorchSharp.torch;

namespace TSViz.Explain.Attribution;

/// <summary>
/// A signed attribution of the explained quantity y to every cell (channel c, step t at c * length + t) of one window,
/// in the model's input space (after its preprocessing), with what was explained.
/// </summary>
/// <param name="Method">The method's name ("gradient-x-input", "integrated-gradients").</param>
/// <param name="Attribution">Signed attributions, channels x length, channel-major.</param>
/// <param name="ModelInput">The window as the model saw it (preprocessed), channel-major.</param>
/// <param name="Explained">y at the window.</param>
/// <param name="BaselineExplained">y at the baseline (the reference the attributions are relative to).</param>
/// <param name="CompletenessGap">
/// sum(Attribution) - (y(window) - y(baseline)): zero for an exact Integrated Gradients, the Riemann error otherwise.
/// </param>
public sealed record InputAttribution(string Method, float[] Attribution, float[] ModelInput, double Explained, double BaselineExplained, double CompletenessGap);

/// <summary>
/// Integrated Gradients (Sundararajan et al. 2017): A_i = (x_i - b_i) * mean over k of dy/dx_i at b + a_k (x - b),
/// a_k = (k - 1/2) / steps (midpoint rule). Its completeness axiom, sum_i A_i = y(x) - y(b), holds as the steps grow;
/// <see cref="InputAttribution.CompletenessGap"/> reports how far a given number of steps is from it. The baseline is
/// a constant in the model's input space (0: every channel at its mean for z-scored models).
/// </summary>
public sealed record IntegratedGradientsOptions
{
    /// <summary>Points on the straight path from the baseline to the window (at least 1; default 32).</summary>
    public int Steps { get; init; } = 32;

    /// <summary>The baseline's value in every cell, in the model's input space (default 0).</summary>
    public float Baseline { get; init; }
}

/// <summary>
/// SmoothGrad (Smilkov et al. 2017): the gradient dy/dx averaged over copies of the window with Gaussian noise of
/// standard deviation <see cref="NoiseLevel"/> x (max - min of the window in the model's input space).
/// </summary>
public sealed record SmoothGradOptions
{
    /// <summary>Noisy copies per window (at least 1; default 16).</summary>
    public int Samples { get; init; } = 16;

    /// <summary>The noise's standard deviation as a fraction of the window's range (default 0.1; 0: the plain gradient).</summary>
    public double NoiseLevel { get; init; } = 0.1;

    /// <summary>Seed of the noise, so a result can be reproduced.</summary>
    public int Seed { get; init; } = 17;
}

/// <summary>
/// Occlusion (Zeiler and Fergus 2014, per channel for time series): a window of <see cref="Width"/> steps of one
/// channel is set to <see cref="Baseline"/>, at every start; each cell's attribution is the mean, over the occlusions
/// covering it, of y(window) - y(occluded). No gradient: it measures what removing the evidence does.
/// </summary>
public sealed record OcclusionOptions
{
    /// <summary>Steps occluded at once (at least 1, at most the window length; default 5).</summary>
    public int Width { get; init; } = 5;

    /// <summary>The value occluded cells take, in the model's input space (default 0).</summary>
    public float Baseline { get; init; }
}

/// <summary>
/// Signed input attributions on the deployed weights, in the model's input space: gradient x input, Integrated
/// Gradients, SmoothGrad and occlusion. Each returns one <see cref="InputAttribution"/> per window.
/// </summary>
public static class InputAttributions
{
    /// <summary>
    /// The signed gradient A_i = dy/dx_i at the window (one backward pass): the paper's saliency before the absolute
    /// value of Eq. 13. <see cref="InputAttribution.CompletenessGap"/> and the baseline's y are NaN: it has no baseline.
    /// </summary>
    public static InputAttribution[] Gradient(Explainer explainer, ReadOnlySpan<float> windows, int count, ExplainOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        ArgumentNullException.ThrowIfNull(options);
        return explainer.Split(windows, count, (part, n) => Compute(explainer, part, n, options, steps: -1, baseline: 0), cancellationToken, torch: explainer.Compiled is null);
    }

    /// <summary>Gradient x input: A_i = x_i dy/dx_i (one backward pass; the baseline is 0).</summary>
    public static InputAttribution[] GradientTimesInput(Explainer explainer, ReadOnlySpan<float> windows, int count, ExplainOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        ArgumentNullException.ThrowIfNull(options);
        return explainer.Split(windows, count, (part, n) => Compute(explainer, part, n, options, steps: 0, baseline: 0), cancellationToken, torch: explainer.Compiled is null);
    }

    /// <summary>Integrated Gradients from a constant baseline (see <see cref="IntegratedGradientsOptions"/>).</summary>
    public static InputAttribution[] IntegratedGradients(
        Explainer explainer, ReadOnlySpan<float> windows, int count, IntegratedGradientsOptions integrated, ExplainOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        ArgumentNullException.ThrowIfNull(integrated);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(integrated.Steps, 1, nameof(integrated));
        return explainer.Split(windows, count, (part, n) => Compute(explainer, part, n, options, integrated.Steps, integrated.Baseline), cancellationToken, torch: explainer.Compiled is null);
    }

    /// <summary>SmoothGrad: the mean gradient over noisy copies (signed; <see cref="InputAttribution.CompletenessGap"/> is NaN: no baseline).</summary>
    public static InputAttribution[] SmoothGrad(Explainer explainer, ReadOnlySpan<float> windows, int count, SmoothGradOptions smooth, ExplainOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        ArgumentNullException.ThrowIfNull(smooth);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(smooth.Samples, 1, nameof(smooth));
        ArgumentOutOfRangeException.ThrowIfNegative(smooth.NoiseLevel, nameof(smooth));
        return explainer.Split(windows, count, (part, n) => SmoothGradKernel(explainer, part, n, options, smooth), cancellationToken, torch: explainer.Compiled is null);
    }

    /// <summary>Occlusion per channel (see <see cref="OcclusionOptions"/>); the gap is sum(A) - (y(x) - y(all at the baseline)).</summary>
    public static InputAttribution[] Occlusion(Explainer explainer, ReadOnlySpan<float> windows, int count, OcclusionOptions occlusion, ExplainOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        ArgumentNullException.ThrowIfNull(occlusion);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(occlusion.Width, 1, nameof(occlusion));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(occlusion.Width, explainer.Metadata.WindowLength, nameof(occlusion));
        return explainer.Split(windows, count, (part, n) => OcclusionKernel(explainer, part, n, options, occlusion), cancellationToken, torch: explainer.Compiled is null);
    }

    private static InputAttribution[] SmoothGradKernel(Explainer explainer, float[] windows, int count, ExplainOptions options, SmoothGradOptions smooth)
    {
        var metadata = explainer.Metadata;
        int channels = metadata.Channels.Count, length = metadata.WindowLength, size = channels * length, samples = smooth.Samples;
        var input = ModelSpace(metadata, windows, count);
        var random = new Random(smooth.Seed);
        var noisy = new float[count * samples * size];
        for (int w = 0; w < count; w++)
        {
            var window = input.AsSpan(w * size, size);
            double sigma = smooth.NoiseLevel * (MaxOf(window) - MinOf(window));
            for (int k = 0; k < samples; k++)
            {
                int offset = ((w * samples) + k) * size;
                for (int i = 0; i < size; i++)
                {
                    noisy[offset + i] = (float)(window[i] + (sigma * Normal(random)));
                }
            }
        }

        float[] gradient = GradientAt(explainer, noisy, count * samples, options);
        var at = ValuesAt(explainer, input, count, options);
        var results = new InputAttribution[count];
        for (int w = 0; w < count; w++)
        {
            var attribution = new float[size];
            for (int i = 0; i < size; i++)
            {
                double mean = 0;
                for (int k = 0; k < samples; k++)
                {
                    mean += gradient[(((w * samples) + k) * size) + i];
                }

                attribution[i] = (float)(mean / samples);
            }

            results[w] = new InputAttribution(AttributionSaliency.SmoothGrad, attribution, input.AsSpan(w * size, size).ToArray(), at[w], double.NaN, double.NaN);
        }

        return results;
    }

    private static InputAttribution[] OcclusionKernel(Explainer explainer, float[] windows, int count, ExplainOptions options, OcclusionOptions occlusion)
    {
        var metadata = explainer.Metadata;
        int channels = metadata.Channels.Count, length = metadata.WindowLength, size = channels * length, width = occlusion.Width;
        int starts = length - width + 1, perWindow = (channels * starts) + 2; // every occlusion, the window itself, all at the baseline
        var input = ModelSpace(metadata, windows, count);
        var batch = new float[count * perWindow * size];
        for (int w = 0; w < count; w++)
        {
            var window = input.AsSpan(w * size, size);
            int variant = w * perWindow;
            for (int c = 0; c < channels; c++)
            {
                for (int s0 = 0; s0 < starts; s0++, variant++)
                {
                    var copy = batch.AsSpan(variant * size, size);
                    window.CopyTo(copy);
                    copy.Slice((c * length) + s0, width).Fill(occlusion.Baseline);
                }
            }

            window.CopyTo(batch.AsSpan(variant * size, size));
            batch.AsSpan((variant + 1) * size, size).Fill(occlusion.Baseline);
        }

        var y = ValuesAt(explainer, batch, count * perWindow, options);
        var results = new InputAttribution[count];
        for (int w = 0; w < count; w++)
        {
            int first = w * perWindow;
            double full = y[first + (channels * starts)], empty = y[first + (channels * starts) + 1];
            var attribution = new float[size];
            for (int c = 0; c < channels; c++)
            {
                for (int t = 0; t < length; t++)
                {
                    // The occlusions of channel c that cover step t start at max(0, t - width + 1) .. min(t, starts - 1).
                    int from = Math.Max(0, t - width + 1), to = Math.Min(t, starts - 1);
                    double sum = 0;
                    for (int s0 = from; s0 <= to; s0++)
                    {
                        sum += full - y[first + (c * starts) + s0];
                    }

                    attribution[(c * length) + t] = (float)(sum / (to - from + 1));
                }
            }

            double total = attribution.Sum(a => (double)a);
            results[w] = new InputAttribution(AttributionSaliency.Occlusion, attribution, input.AsSpan(w * size, size).ToArray(), full, empty, total - (full - empty));
        }

        return results;
    }

    /// <summary>dy/dx at each of <paramref name="count"/> model-space windows: on the compiled kernels when the explainer has them.</summary>
    internal static float[] GradientAt(Explainer explainer, float[] modelInput, int count, ExplainOptions options)
    {
        if (explainer.Compiled is { } compiled)
        {
            return CompiledExplanations.Gradients(compiled, modelInput, count, [], options).InputGradient;
        }

        var metadata = explainer.Metadata;
        var x = tensor(modelInput, [count, metadata.Channels.Count, metadata.WindowLength]).requires_grad_(true);
        var explained = ExplainedQuantity.Select(explainer.Graph, explainer.Graph.Run(x), options.Target, options.Temperature).Value;
        return autograd.grad([explained.sum()], [x])[0].ToFloatArray();
    }

    /// <summary>y at each of <paramref name="count"/> model-space windows: on the compiled kernels when the explainer has them.</summary>
    private static double[] ValuesAt(Explainer explainer, float[] modelInput, int count, ExplainOptions options)
        => explainer.Compiled is { } compiled
            ? CompiledExplanations.Evaluate(compiled, modelInput, count, options.Target, options.Temperature)
            : Evaluate(explainer.Graph, modelInput, count, options);

    /// <summary>y for each of <paramref name="count"/> model-space windows, without gradients.</summary>
    internal static double[] Evaluate(OnnxGraph graph, float[] modelInput, int count, ExplainOptions options)
    {
        var metadata = graph.Metadata;
        using var noGrad = no_grad();
        var values = graph.Run(tensor(modelInput, [count, metadata.Channels.Count, metadata.WindowLength]));
        return [.. ExplainedQuantity.Select(graph, values, options.Target, options.Temperature).Value.detach().ToFloatArray().Select(v => (double)v)];
    }

    private static double MaxOf(ReadOnlySpan<float> values)
    {
        float max = float.MinValue;
        foreach (float v in values)
        {
            max = Math.Max(max, v);
        }

        return max;
    }

    private static double MinOf(ReadOnlySpan<float> values)
    {
        float min = float.MaxValue;
        foreach (float v in values)
        {
            min = Math.Min(min, v);
        }

        return min;
    }

    /// <summary>A standard normal draw (Box-Muller).</summary>
    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>
    /// steps -1: the signed gradient at the window; 0: gradient x input at the window; else Integrated Gradients with
    /// that many path points.
    /// </summary>
    private static InputAttribution[] Compute(Explainer explainer, float[] windows, int count, ExplainOptions options, int steps, float baseline)
    {
        var metadata = explainer.Metadata;
        int channels = metadata.Channels.Count, length = metadata.WindowLength, size = channels * length;
        var input = ModelSpace(metadata, windows, count);

        // y at every window and at the baseline, in one forward pass.
        var ends = new float[2 * count * size];
        input.CopyTo(ends, 0);
        Array.Fill(ends, baseline, count * size, count * size);
        var endValues = ValuesAt(explainer, ends, 2 * count, options);

        // The gradient at the window (gradient x input), or at each path point (Integrated Gradients).
        int points = Math.Max(steps, 1);
        var path = new float[count * points * size];
        for (int w = 0; w < count; w++)
        {
            for (int k = 0; k < points; k++)
            {
                double alpha = steps <= 0 ? 1.0 : (k + 0.5) / steps;
                int offset = ((w * points) + k) * size;
                for (int i = 0; i < size; i++)
                {
                    float x = input[(w * size) + i];
                    path[offset + i] = (float)(baseline + (alpha * (x - baseline)));
                }
            }
        }

        float[] gradient = GradientAt(explainer, path, count * points, options);

        var results = new InputAttribution[count];
        for (int w = 0; w < count; w++)
        {
            var attribution = new float[size];
            double sum = 0;
            for (int i = 0; i < size; i++)
            {
                double mean = 0;
                for (int k = 0; k < points; k++)
                {
                    mean += gradient[(((w * points) + k) * size) + i];
                }

                float x = input[(w * size) + i];
                float multiplier = steps switch { < 0 => 1f, 0 => x, _ => x - baseline };
                attribution[i] = (float)(multiplier * mean / points);
                sum += attribution[i];
            }

            double at = endValues[w], atBaseline = endValues[count + w];
            results[w] = steps < 0
                ? new InputAttribution(AttributionSaliency.Gradient, attribution, input.AsSpan(w * size, size).ToArray(), at, double.NaN, double.NaN)
                : new InputAttribution(steps == 0 ? AttributionSaliency.GradientTimesInput : AttributionSaliency.IntegratedGradients, attribution, input.AsSpan(w * size, size).ToArray(),
                    at, atBaseline, sum - (at - atBaseline));
        }

        return results;
    }

    /// <summary>The windows as the model sees them: the model's preprocessing applied on the CPU, as the scoring path does.</summary>
    internal static float[] ModelSpace(ModelMetadata metadata, float[] windows, int count)
    {
        var input = windows.AsSpan(0, count * metadata.Channels.Count * metadata.WindowLength).ToArray();
        WindowPreprocessing.Apply(metadata.Preprocessing, input, metadata.Channels.Count, metadata.WindowLength);
        return input;
    }
}
