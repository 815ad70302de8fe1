using TSViz.Explain.Graph;
using static TorchSharp.torch;

namespace TSViz.Explain.Attribution;

/// <summary>
/// Input saliency I = |dy/dx| (Eq. 12-13, scaled by Eq. 14) and filter influence I_j = sum_t |dy/da_j(t)|
/// (Eq. 15-16) for every window of a batch and every conv layer, from a single backward pass: the explained
/// quantity is summed over the batch, and since no operator mixes windows, each window's gradient is its own.
/// </summary>
internal static class SaliencyAndInfluence
{
    public static WindowExplanation[] Compute(OnnxGraph graph, Tensor received, ExplainOptions options)
    {
        var metadata = graph.Metadata;
        int count = (int)received.shape[0];
        int channels = metadata.Channels.Count;
        int length = metadata.WindowLength;

        received.requires_grad_(true);
        var modelInput = TorchPreprocessing.Apply(metadata.Preprocessing, received);
        bool preprocesses = !ReferenceEquals(modelInput, received);
        var values = graph.Run(modelInput);
        var (explained, description) = ExplainedQuantity.Select(graph, values, options.Target, options.Temperature);

        var wrt = new List<Tensor> { modelInput };
        if (preprocesses && options.IncludeReceivedSaliency)
        {
            wrt.Add(received);
        }

        var activations = graph.Layers.Select(l => values[l.ActivationTensor]).ToList();
        wrt.AddRange(activations);
        var gradients = autograd.grad([explained.sum()], wrt, allow_unused: true);

        float[] saliencyRaw = gradients[0].abs().data<float>().ToArray();
        float[]? saliencyReceived = preprocesses && options.IncludeReceivedSaliency ? gradients[1].abs().data<float>().ToArray() : null;
        int firstLayerGradient = wrt.Count - activations.Count;
        var influence = new float[graph.Layers.Count][];
        var activationValues = new float[graph.Layers.Count][];
        for (int l = 0; l < graph.Layers.Count; l++)
        {
            var gradient = gradients[firstLayerGradient + l];
            influence[l] = gradient is null || gradient.IsInvalid
                ? new float[count * graph.Layers[l].Filters]
                : gradient.abs().sum([2]).data<float>().ToArray();
            if (options.IncludeActivations)
            {
                activationValues[l] = activations[l].detach().data<float>().ToArray();
            }
        }

        var score = ExplainedQuantity.Score(values[graph.ScoreOutput]).detach().data<float>().ToArray();
        var explainedValues = explained.detach().data<float>().ToArray();
        bool probability = graph.FinalActivation != "none";
        double? threshold = metadata.DecisionThreshold;

        var results = new WindowExplanation[count];
        int size = channels * length;
        for (int w = 0; w < count; w++)
        {
            var raw = saliencyRaw.AsSpan(w * size, size).ToArray();
            float total = raw.Sum();
            var shares = new float[channels];
            if (total > 0)
            {
                for (int c = 0; c < channels; c++)
                {
                    float channelSum = 0;
                    for (int t = 0; t < length; t++)
                    {
                        channelSum += raw[(c * length) + t];
                    }

                    shares[c] = channelSum / total;
                }
            }

            var layers = new LayerInfluence[graph.Layers.Count];
            for (int l = 0; l < layers.Length; l++)
            {
                var layer = graph.Layers[l];
                var own = influence[l].AsSpan(w * layer.Filters, layer.Filters).ToArray();
                int activationSize = layer.Filters * layer.OutputLength;
                layers[l] = new LayerInfluence(
                    layer.Name,
                    own,
                    FilterSelection.MinMaxScale(own),
                    FilterSelection.Rank(own),
                    options.IncludeActivations ? activationValues[l].AsSpan(w * activationSize, activationSize).ToArray() : null);
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
                saliencyReceived?.AsSpan(w * size, size).ToArray(),
                shares,
                TopSteps(raw, metadata.Channels, length, options.TopSteps),
                layers);
        }

        return results;
    }

    private static SalientStep[] TopSteps(float[] saliency, IReadOnlyList<string> channels, int length, int k)
        => Enumerable.Range(0, saliency.Length)
            .OrderByDescending(i => saliency[i])
            .ThenBy(i => i)
            .Take(k)
            .Select(i => new SalientStep(i / length, channels[i / length], i % length, saliency[i]))
            .ToArray();
}
