using TSViz.Explain.Runtime;
using TorchSharp;
using TSViz.Explain.Graph;
using static TorchSharp.torch;

namespace TSViz.Explain.Attribution;

/// <summary>
/// Per-filter input saliency |d(sum_t a_j(t))/dx| (Eq. 11-13) with respect to the model input. The batched way
/// replicates each window once per chosen filter and runs the graph only up to the layer; masking the layer's
/// output so that replica j keeps filter j makes one backward pass deliver every filter's gradient at once.
/// </summary>
internal static class PerFilterSaliencyKernel
{
    /// <summary>Replicas per forward/backward pass. Measured on 2 cores: 1,024 beat both smaller and larger chunks (cache).</summary>
    private const int MaxReplicas = 1_024;

    public static FilterSaliencyMap[][] Batched(OnnxGraph graph, Tensor received, IReadOnlyDictionary<string, int[]>? chosen, CancellationToken cancellationToken)
    {
        CheckLayers(graph.Layers, chosen);
        using var noGrad = no_grad();
        var modelInput = TorchPreprocessing.Apply(graph.Metadata.Preprocessing, received).detach();
        int count = (int)modelInput.shape[0];
        var results = Enumerable.Range(0, count).Select(_ => new List<FilterSaliencyMap>()).ToArray();
        int size = (int)(modelInput.shape[1] * modelInput.shape[2]);

        foreach (var layer in graph.Layers)
        {
            int[] filters = Filters(layer, chosen);
            if (filters.Length == 0)
            {
                continue;
            }

            int windowsPerChunk = Math.Max(1, MaxReplicas / filters.Length);
            for (int start = 0; start < count; start += windowsPerChunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                int n = Math.Min(windowsPerChunk, count - start);
                var chunk = modelInput.narrow(0, start, n);
                var replicas = chunk.repeat_interleave(filters.Length, 0).requires_grad_(true);
                var rows = tensor(filters.Select(f => (long)f).ToArray()).repeat(n).reshape(-1, 1, 1);
                float[] gradient;
                using (enable_grad())
                {
                    var activation = graph.Run(replicas, layer.ActivationTensor)[layer.ActivationTensor];
                    var selected = activation.gather(1, rows.expand(-1, 1, activation.shape[2])).sum();
                    gradient = autograd.grad([selected], [replicas])[0].abs().ToFloatArray();
                }

                for (int w = 0; w < n; w++)
                {
                    for (int f = 0; f < filters.Length; f++)
                    {
                        int offset = ((w * filters.Length) + f) * size;
                        results[start + w].Add(new FilterSaliencyMap(layer.Name, filters[f], gradient.AsSpan(offset, size).ToArray()));
                    }
                }
            }
        }

        return results.Select(r => r.ToArray()).ToArray();
    }

    public static FilterSaliencyMap[][] OnePassPerFilter(OnnxGraph graph, Tensor received)
    {
        using var noGrad = no_grad();
        var modelInput = TorchPreprocessing.Apply(graph.Metadata.Preprocessing, received).detach();
        int count = (int)modelInput.shape[0];
        var results = new FilterSaliencyMap[count][];
        for (int w = 0; w < count; w++)
        {
            var maps = new List<FilterSaliencyMap>();
            foreach (var layer in graph.Layers)
            {
                for (int f = 0; f < layer.Filters; f++)
                {
                    using var scope = NewDisposeScope();
                    var x = modelInput.narrow(0, w, 1).clone().requires_grad_(true);
                    using (enable_grad())
                    {
                        var activation = graph.Run(x, layer.ActivationTensor)[layer.ActivationTensor];
                        var gradient = autograd.grad([activation[0, f].sum()], [x])[0].abs();
                        maps.Add(new FilterSaliencyMap(layer.Name, f, gradient.ToFloatArray()));
                    }
                }
            }

            results[w] = [.. maps];
        }

        return results;
    }

    /// <summary>Refuses a choice naming a layer the model does not have, listing the ones it has.</summary>
    internal static void CheckLayers(IReadOnlyList<ModelLayer> layers, IReadOnlyDictionary<string, int[]>? chosen)
    {
        var unknown = chosen?.Keys.Where(name => layers.All(l => l.Name != name)).ToList();
        if (unknown is { Count: > 0 })
        {
            throw new ArgumentException(
                $"No conv layer named {string.Join(", ", unknown.Select(u => $"'{u}'"))}; the model's layers are {string.Join(", ", layers.Select(l => $"{l.Name} ({l.Filters} filters)"))}.",
                nameof(chosen));
        }
    }

    /// <summary>The chosen filters of <paramref name="layer"/> (all when nothing is chosen), each checked.</summary>
    internal static int[] Filters(ModelLayer layer, IReadOnlyDictionary<string, int[]>? chosen)
    {
        if (chosen is null)
        {
            return Enumerable.Range(0, layer.Filters).ToArray();
        }

        if (!chosen.TryGetValue(layer.Name, out var filters))
        {
            return [];
        }

        foreach (int f in filters)
        {
            if (f < 0 || f >= layer.Filters)
            {
                throw new ArgumentOutOfRangeException(nameof(chosen), f, $"Layer '{layer.Name}' has filters 0..{layer.Filters - 1}.");
            }
        }

        return filters;
    }
}
