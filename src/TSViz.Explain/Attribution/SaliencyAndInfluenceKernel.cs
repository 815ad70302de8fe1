using TSViz.Explain.Compiled;
using TSViz.Explain.Onnx;
using TSViz.Explain.Runtime;
using TSViz.Explain.Data;
using TSViz.Explain.Graph;
using static TorchSharp.torch;

namespace TSViz.Explain.Attribution;

/// <summary>
/// Input saliency I = |dy/dx| (Eq. 12-13, scaled by Eq. 14) and filter influence I_j = sum_t |dy/da_j(t)|
/// (Eq. 15-16) for every window of a batch and every conv layer, from a single backward pass: the explained
/// quantity is summed over the batch, and since no operator mixes windows, each window's gradient is its own.
/// The computation of <see cref="SaliencyAndInfluence"/>, <see cref="InputSaliency"/> (influence off) and
/// <see cref="FilterInfluence"/>.
/// </summary>
internal static class SaliencyAndInfluenceKernel
{
    /// <summary>The explanations of <paramref name="count"/> received windows: on the compiled kernels when the explainer has them, else on the TorchSharp graph.</summary>
    public static WindowExplanation[] Compute(Explainer explainer, float[] windows, int count, ExplainOptions options)
    {
        var (input, scales) = Preprocess(explainer.Metadata, windows, count);
        IReadOnlyList<ModelLayer> explainedLayers = options.IncludeInfluence ? explainer.Layers : [];
        var pass = explainer.Compiled is { } compiled
            ? CompiledExplanations.Gradients(compiled, input, count, explainedLayers, options)
            : TorchGradients(explainer.Graph, input, count, explainedLayers, options);
        return Assemble(explainer.Metadata, explainer.Graph.FinalActivation != "none", input, scales, count, explainedLayers, pass, options);
    }

    /// <summary>
    /// The received windows in model space, preprocessed on the CPU exactly as the scoring path does, with each
    /// channel's scale kept for the gradient with respect to the received window (z-score models only).
    /// </summary>
    internal static (float[] Input, double[]? Scales) Preprocess(ModelMetadata metadata, ReadOnlySpan<float> windows, int count)
    {
        int channels = metadata.Channels.Count;
        int length = metadata.WindowLength;
        var input = windows[..(count * channels * length)].ToArray();
        var scales = metadata.Preprocessing == WindowPreprocessing.ZScorePerChannel ? new double[count * channels] : null;
        for (int i = 0; scales is not null && i < count * channels; i++)
        {
            scales[i] = WindowPreprocessing.ZScoreInPlace(input.AsSpan(i * length, length), 1, length);
        }

        WindowPreprocessing.Apply(scales is null ? metadata.Preprocessing : WindowPreprocessing.None, input, channels, length);
        return (input, scales);
    }

    /// <summary>The gradients on the general path: one TorchSharp forward and one autograd backward over the batch.</summary>
    internal static GradientPass TorchGradients(OnnxGraph graph, float[] input, int count, IReadOnlyList<ModelLayer> explainedLayers, ExplainOptions options)
    {
        var metadata = graph.Metadata;
        var modelInput = tensor(input, [count, metadata.Channels.Count, metadata.WindowLength]).requires_grad_(true);
        var values = graph.Run(modelInput);
        var (explained, description) = ExplainedQuantity.Select(graph, values, options.Target, options.Temperature);

        // Without influence the backward pass stops at the input: no layer's gradient is asked for.
        var activations = explainedLayers.Select(l => values[l.ActivationTensor]).ToList();
        List<Tensor> wrt = [modelInput, .. activations];
        var gradients = autograd.grad([explained.sum()], wrt, allow_unused: true);

        float[] inputGradient = gradients[0].ToFloatArray();
        const int firstLayerGradient = 1;
        var influence = new float[explainedLayers.Count][];
        var contribution = new float[explainedLayers.Count][];
        var activationValues = new float[explainedLayers.Count][];
        for (int l = 0; l < explainedLayers.Count; l++)
        {
            var gradient = gradients[firstLayerGradient + l];
            influence[l] = gradient is null || gradient.IsInvalid
                ? new float[count * explainedLayers[l].Filters]
                : gradient.abs().sum([2]).ToFloatArray();
            if (options.IncludeContribution)
            {
                // |sum_t a_j(t) dy/da_j(t)|: the first-order change of y when filter j's activation goes to zero.
                contribution[l] = gradient is null || gradient.IsInvalid
                    ? new float[count * explainedLayers[l].Filters]
                    : (activations[l].detach() * gradient).sum([2]).abs().ToFloatArray();
            }

            if (options.IncludeActivations)
            {
                activationValues[l] = activations[l].detach().ToFloatArray();
            }
        }

        var score = ExplainedQuantity.Score(values[graph.ScoreOutput]).detach().ToFloatArray();
        return new GradientPass(inputGradient, influence, contribution, activationValues, score, explained.detach().ToFloatArray(), description);
    }

    /// <summary>Each window's explanation from the batch's gradients: saliency scaled 0-1, channel shares, top steps, influence ranked.</summary>
    internal static WindowExplanation[] Assemble(
        ModelMetadata metadata, bool probability, float[] input, double[]? scales, int count, IReadOnlyList<ModelLayer> explainedLayers, GradientPass pass, ExplainOptions options)
    {
        int channels = metadata.Channels.Count;
        int length = metadata.WindowLength;
        var (inputGradient, influence, contribution, activationValues, score, explainedValues, description) = pass;
        double? threshold = metadata.DecisionThreshold;

        var results = new WindowExplanation[count];
        int size = channels * length;
        for (int w = 0; w < count; w++)
        {
            var signed = inputGradient.AsSpan(w * size, size);
            var raw = new float[size];
            for (int i = 0; i < size; i++)
            {
                raw[i] = Math.Abs(options.TimesInput ? signed[i] * input[(w * size) + i] : signed[i]);
            }

            var shares = new float[channels];
            float total = 0;
            for (int c = 0; c < channels; c++)
            {
                float channelSum = 0;
                for (int t = 0; t < length; t++)
                {
                    channelSum += raw[(c * length) + t];
                }

                shares[c] = channelSum;
                total += channelSum;
            }

            if (total > 0)
            {
                for (int c = 0; c < channels; c++)
                {
                    shares[c] /= total;
                }
            }

            var layers = new LayerInfluence[explainedLayers.Count];
            for (int l = 0; l < layers.Length; l++)
            {
                var layer = explainedLayers[l];
                var own = influence[l].AsSpan(w * layer.Filters, layer.Filters).ToArray();
                int activationSize = layer.Filters * layer.OutputLength;
                layers[l] = new LayerInfluence(
                    layer.Name,
                    own,
                    FilterSelection.MinMaxScale(own),
                    FilterSelection.Rank(own),
                    options.IncludeActivations ? activationValues[l].AsSpan(w * activationSize, activationSize).ToArray() : null)
                {
                    Contribution = options.IncludeContribution ? contribution[l].AsSpan(w * layer.Filters, layer.Filters).ToArray() : null,
                };
            }

            results[w] = new WindowExplanation(
                score[w],
                threshold is double th ? score[w] >= th : null,
                explainedValues[w],
                description,
                GradientsVanished: total == 0,
                OutputSaturated: probability && (score[w] == 0f || score[w] == 1f),
                FilterSelection.MinMaxScale(raw),
                raw,
                scales is not null && options.IncludeReceivedSaliency && !options.TimesInput ? ReceivedSaliency(signed, input.AsSpan(w * size, size), scales.AsSpan(w * channels, channels), length) : null,
                shares,
                TopSteps(raw, metadata.Channels, length, options.TopSteps),
                layers)
            {
                SaliencyMethod = options.TimesInput ? AttributionSaliency.GradientTimesInput : AttributionSaliency.Gradient,
            };
        }

        return results;
    }

    /// <summary>
    /// |dy/dr| for the received window r, from g = dy/dx of the z-scored window x = (r - mean r) / std r, per
    /// channel: dy/dr = (g - mean(g) - x mean(g x)) / std. Closed form: no backward pass through the preprocessing.
    /// </summary>
    private static float[] ReceivedSaliency(ReadOnlySpan<float> gradient, ReadOnlySpan<float> modelInput, ReadOnlySpan<double> scales, int length)
    {
        var result = new float[gradient.Length];
        for (int c = 0; c < scales.Length; c++)
        {
            var g = gradient.Slice(c * length, length);
            var x = modelInput.Slice(c * length, length);
            double meanG = 0, meanGx = 0;
            for (int t = 0; t < length; t++)
            {
                meanG += g[t];
                meanGx += g[t] * x[t];
            }

            meanG /= length;
            meanGx /= length;
            for (int t = 0; t < length; t++)
            {
                result[(c * length) + t] = (float)Math.Abs((g[t] - meanG - (x[t] * meanGx)) / scales[c]);
            }
        }

        return result;
    }

    /// <summary>The k largest values, largest first (ties: lower index first), by insertion into a short sorted list.</summary>
    internal static SalientStep[] TopSteps(float[] saliency, IReadOnlyList<string> channels, int length, int k)
    {
        k = Math.Min(k, saliency.Length);
        if (k <= 0)
        {
            return [];
        }

        var top = new int[k];
        int filled = 0;
        for (int i = 0; i < saliency.Length; i++)
        {
            float value = saliency[i];
            if (filled == k && value <= saliency[top[k - 1]])
            {
                continue;
            }

            int position = Math.Min(filled, k - 1);
            while (position > 0 && saliency[top[position - 1]] < value)
            {
                if (position < k)
                {
                    top[position] = top[position - 1];
                }

                position--;
            }

            top[position] = i;
            filled = Math.Min(filled + 1, k);
        }

        var steps = new SalientStep[filled];
        for (int j = 0; j < filled; j++)
        {
            int i = top[j];
            steps[j] = new SalientStep(i / length, channels[i / length], i % length, saliency[i]);
        }

        return steps;
    }
}

/// <summary>
/// The gradients one saliency-and-influence pass computes over a batch, on either path.
/// </summary>
/// <param name="InputGradient">d(quantity)/dx in model space, windows x channels x length.</param>
/// <param name="Influence">Per explained layer: sum_t |dy/da_j(t)|, windows x filters.</param>
/// <param name="Contribution">Per explained layer: |sum_t a_j(t) dy/da_j(t)|, windows x filters (entries null unless asked for).</param>
/// <param name="Activations">Per explained layer: the activations, windows x filters x steps (entries null unless asked for).</param>
/// <param name="Score">The reported score per window.</param>
/// <param name="Explained">The differentiated quantity per window.</param>
/// <param name="Description">What the quantity is ("logit", ...).</param>
internal sealed record GradientPass(float[] InputGradient, float[][] Influence, float[][] Contribution, float[][] Activations, float[] Score, float[] Explained, string Description);
