using TSViz.Explain.Graph;
using TSViz.Explain.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace TSViz.Explain.Attribution;

/// <summary>
/// Recursive highlighting (TSViz workshop paper, section 4): from one activation a_j(t) of a conv layer, the points
/// of every lower level that actually produced it. A point counts when the activation depends on it, i.e. when
/// d a_j(t) / d point is not zero. That is exactly the receptive field, followed through max-pooling only along
/// the maxima (the suppressed values get no gradient), less the paths a ReLU switched off and weights that are
/// zero. One backward pass on the deployed weights; no receptive-field arithmetic that could drift from the graph.
/// </summary>
internal static class ActivationTraceKernel
{
    public static ActivationTraceResult Run(OnnxGraph graph, Tensor received, string layerName, int filter, int step)
    {
        var layer = graph.Layers.FirstOrDefault(l => l.Name == layerName)
            ?? throw new ArgumentException(
                $"No conv layer named '{layerName}'; the model's layers are {string.Join(", ", graph.Layers.Select(l => l.Name))}.", nameof(layerName));
        if (filter < 0 || filter >= layer.Filters)
        {
            throw new ArgumentOutOfRangeException(nameof(filter), filter, $"Layer {layer.Name} has filters 0..{layer.Filters - 1}.");
        }

        if (step < 0 || step >= layer.OutputLength)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, $"Layer {layer.Name} has steps 0..{layer.OutputLength - 1}.");
        }

        Tensor modelInput;
        using (no_grad())
        {
            modelInput = TorchPreprocessing.Apply(graph.Metadata.Preprocessing, received).detach();
        }

        var leaf = modelInput.requires_grad_(true);
        float activation;
        Tensor[] gradients;
        List<ModelLayer> below;
        using (enable_grad())
        {
            var values = graph.Run(leaf, layer.ActivationTensor);
            // Lower layers on a branch that does not lead to this one are not computed on the way: nothing of them produced it.
            below = [.. graph.Layers.Where(l => l.Index < layer.Index && values.ContainsKey(l.ActivationTensor)).OrderByDescending(l => l.Index)];
            var selected = values[layer.ActivationTensor][0, filter, step];
            activation = selected.detach().item<float>();
            List<Tensor> wrt = [.. below.Select(l => values[l.ActivationTensor]), leaf];
            gradients = [.. autograd.grad([selected], wrt, allow_unused: true)];
        }

        var levels = new List<TraceLevel>(below.Count + 1);
        for (int i = 0; i < below.Count; i++)
        {
            levels.Add(Level(below[i].Name, below[i].Filters, below[i].OutputLength, gradients[i]));
        }

        levels.Add(Level("input", graph.Metadata.Channels.Count, graph.Metadata.WindowLength, gradients[^1]));
        return new ActivationTraceResult(layer.Name, filter, step, activation, levels);
    }

    private static TraceLevel Level(string name, int rows, int length, Tensor? gradient)
    {
        if (gradient is null || gradient.IsInvalid)
        {
            return new TraceLevel(name, rows, length, []);
        }

        var values = gradient.abs().ToFloatArray();
        float top = values.Max();
        var points = new List<TracedPoint>();
        for (int i = 0; i < values.Length && top > 0; i++)
        {
            if (values[i] > 0)
            {
                points.Add(new TracedPoint(i / length, i % length, values[i] / top));
            }
        }

        return new TraceLevel(name, rows, length, [.. points]);
    }
}
