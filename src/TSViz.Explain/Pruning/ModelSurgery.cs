using Google.Protobuf;
using Onnx;
using TSViz.Explain.Clustering;
using TSViz.Explain.Graph;
using TSViz.Explain.Onnx;

namespace TSViz.Explain.Pruning;

/// <summary>A filter of a conv layer, by layer name and index.</summary>
/// <param name="Layer">The conv layer's name.</param>
/// <param name="Filter">The filter's index in the layer, 0-based.</param>
public sealed record FilterRef(string Layer, int Filter)
{
    /// <summary>Parses "conv2:3" or "conv2/3".</summary>
    public static FilterRef Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int split = text.LastIndexOfAny([':', '/']);
        if (split <= 0 || !int.TryParse(text.AsSpan(split + 1), out int filter))
        {
            throw new ArgumentException($"'{text}' is not a filter; write layer:index, e.g. conv2:3.", nameof(text));
        }

        return new FilterRef(text[..split], filter);
    }

    /// <summary>"layer:index", the form <see cref="Parse"/> reads.</summary>
    public override string ToString() => $"{Layer}:{Filter}";
}

/// <summary>
/// Edits of a deployed model's filters. Zeroing sets a filter's weights and bias to zero (the paper's faithfulness
/// test, Table 1); removing cuts the filter out of the conv weights and out of whatever reads it next (the next
/// conv's input channel, or the dense layer's columns after a flatten), giving a genuinely smaller model that
/// computes what the zeroed one does.
/// </summary>
public static class ModelSurgery
{
    /// <summary>metadata_props key recording which filters an edit zeroed or removed.</summary>
    public const string PrunedKey = "tsviz.pruned";

    /// <summary>Activations whose value at zero is zero, so a zeroed filter contributes nothing downstream.</summary>
    private static readonly HashSet<string> ZeroPreserving = new HashSet<string> { "Relu", "LeakyRelu", "Elu", "Tanh" };

    /// <summary>A copy of <paramref name="file"/> whose <paramref name="filters"/> have zero weights and bias (same shape).</summary>
    /// <exception cref="ArgumentException">A filter names no layer or index of the model.</exception>
    public static OnnxModelFile ZeroFilters(OnnxModelFile file, IReadOnlyList<ModelLayer> layers, IEnumerable<FilterRef> filters)
    {
        ArgumentNullException.ThrowIfNull(file);
        var model = file.Model.Clone();
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var refs = Validate(layers, filters);
        foreach (var (layer, indices) in refs)
        {
            var conv = ConvNode(model.Graph, layer);
            foreach (int f in indices)
            {
                ZeroRow(initializers, conv.Input[1], f);
                if (conv.Input.Count > 2 && !string.IsNullOrEmpty(conv.Input[2]))
                {
                    ZeroRow(initializers, conv.Input[2], f);
                }

                // A BatchNormalization after the conv would turn the zeros into its shift: zero its scale and bias too.
                if (Consumers(model.Graph, conv.Output[0]) is [{ OpType: "BatchNormalization" } norm])
                {
                    ZeroRow(initializers, norm.Input[1], f);
                    ZeroRow(initializers, norm.Input[2], f);
                }
            }
        }

        Annotate(model, refs, "zeroed");
        return new OnnxModelFile(file.Path, model, file.Metadata);
    }

    /// <summary>A copy of <paramref name="file"/> without <paramref name="filters"/>: a smaller model computing what the zeroed one does.</summary>
    /// <exception cref="ArgumentException">A filter names no layer or index of the model.</exception>
    public static OnnxModelFile RemoveFilters(OnnxModelFile file, IReadOnlyList<ModelLayer> layers, IEnumerable<FilterRef> filters)
    {
        ArgumentNullException.ThrowIfNull(file);
        var model = file.Model.Clone();
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var refs = Validate(layers, filters);
        foreach (var (layerName, indices) in refs)
        {
            var layer = layers.First(l => l.Name == layerName);
            if (indices.Count >= layer.Filters)
            {
                throw new ArgumentException($"Removing every filter of layer '{layerName}' would disconnect the model.", nameof(filters));
            }

            var conv = ConvNode(graph, layerName);
            if (conv.Attribute.Any(a => a.Name == "group" && a.I != 1))
            {
                throw new NotSupportedException($"Layer '{layerName}' is a grouped convolution; removing its filters is not supported.");
            }

            var keep = Enumerable.Range(0, layer.Filters).Where(f => !indices.Contains(f)).ToArray();
            KeepRows(initializers, conv.Input[1], keep);
            if (conv.Input.Count > 2 && !string.IsNullOrEmpty(conv.Input[2]))
            {
                KeepRows(initializers, conv.Input[2], keep);
            }

            // Walk from the conv to whatever reads its channels, through per-channel and elementwise nodes.
            string tensor = conv.Output[0];
            while (true)
            {
                var next = Consumers(graph, tensor);
                if (next.Count != 1)
                {
                    throw new NotSupportedException($"The output of layer '{layerName}' feeds {next.Count} nodes; only a chain to the next conv or dense layer can be pruned.");
                }

                var node = next[0];
                switch (node.OpType)
                {
                    case "BatchNormalization":
                        foreach (var input in node.Input.Skip(1))
                        {
                            KeepRows(initializers, input, keep);
                        }

                        tensor = node.Output[0];
                        continue;
                    case "MaxPool" or "AveragePool" or "Dropout" or "Identity":
                        tensor = node.Output[0];
                        continue;
                    case var op when ZeroPreserving.Contains(op):
                        tensor = node.Output[0];
                        continue;
                    case "Conv":
                        KeepColumns(initializers, node.Input[1], keep, 1);
                        break;
                    case "Flatten":
                        var dense = Consumers(graph, node.Output[0]) is [{ OpType: "Gemm" } gemm] ? gemm
                            : throw new NotSupportedException($"After layer '{layerName}' a Flatten feeds something other than one Gemm.");
                        bool transB = dense.Attribute.Any(a => a.Name == "transB" && a.I == 1);
                        var weight = Initializer(initializers, dense.Input[1]);
                        int perFilter = (int)(transB ? weight.Dims[1] : weight.Dims[0]) / layer.Filters; // time steps after any pooling
                        var columns = keep.SelectMany(f => Enumerable.Range(f * perFilter, perFilter)).ToArray();
                        KeepColumns(initializers, dense.Input[1], columns, transB ? 1 : 0);
                        break;
                    default:
                        throw new NotSupportedException(
                            $"After layer '{layerName}' comes a {node.OpType} node ('{node.Label()}'); pruning follows only BatchNormalization, "
                            + $"{string.Join(", ", ZeroPreserving)}, pooling, Dropout and Identity up to the next Conv or Flatten + Gemm.");
                }

                break;
            }
        }

        Annotate(model, refs, "removed");
        return new OnnxModelFile(file.Path, model, file.Metadata);
    }

    private static Dictionary<string, HashSet<int>> Validate(IReadOnlyList<ModelLayer> layers, IEnumerable<FilterRef> filters)
    {
        var result = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
        foreach (var f in filters)
        {
            LayerSelection.Filter(layers, f.Layer, f.Filter);
            if (!result.TryGetValue(f.Layer, out var set))
            {
                result[f.Layer] = set = [];
            }

            set.Add(f.Filter);
        }

        return result;
    }

    private static NodeProto ConvNode(GraphProto graph, string layer)
        => graph.Node.First(n => n.OpType == "Conv" && (n.Name == layer || (string.IsNullOrEmpty(n.Name) && n.Output[0] == layer)));

    private static List<NodeProto> Consumers(GraphProto graph, string tensor)
        => graph.Node.Where(n => n.Input.Contains(tensor)).ToList();

    private static void Annotate(ModelProto model, Dictionary<string, HashSet<int>> refs, string how)
    {
        string value = $"{how} " + string.Join(";", refs.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}:{string.Join(",", r.Value.Order())}"));
        var existing = model.MetadataProps.FirstOrDefault(p => p.Key == PrunedKey);
        if (existing is null)
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = PrunedKey, Value = value });
        }
        else
        {
            existing.Value += "; " + value;
        }
    }

    private static void ZeroRow(Dictionary<string, TensorProto> initializers, string name, int row)
    {
        var tensor = Initializer(initializers, name);
        var values = OnnxTensors.ReadFloats(tensor);
        int rowSize = values.Length / (int)tensor.Dims[0];
        Array.Clear(values, row * rowSize, rowSize);
        Replace(tensor, [.. tensor.Dims], values);
    }

    private static void KeepRows(Dictionary<string, TensorProto> initializers, string name, int[] keep)
    {
        var tensor = Initializer(initializers, name);
        var values = OnnxTensors.ReadFloats(tensor);
        int rowSize = values.Length / (int)tensor.Dims[0];
        var kept = keep.SelectMany(r => values.AsSpan(r * rowSize, rowSize).ToArray()).ToArray();
        long[] dims = [.. tensor.Dims];
        dims[0] = keep.Length;
        Replace(tensor, dims, kept);
    }

    /// <summary>Keeps the given indices along <paramref name="axis"/> (0 or 1) of a 2-D or 3-D tensor.</summary>
    private static void KeepColumns(Dictionary<string, TensorProto> initializers, string name, int[] keep, int axis)
    {
        var tensor = Initializer(initializers, name);
        if (axis == 0)
        {
            KeepRows(initializers, name, keep);
            return;
        }

        var values = OnnxTensors.ReadFloats(tensor);
        long[] dims = [.. tensor.Dims];
        int rows = (int)dims[0];
        int columns = (int)dims[1];
        int inner = values.Length / (rows * columns);
        var kept = new float[rows * keep.Length * inner];
        for (int r = 0; r < rows; r++)
        {
            for (int k = 0; k < keep.Length; k++)
            {
                values.AsSpan(((r * columns) + keep[k]) * inner, inner).CopyTo(kept.AsSpan(((r * keep.Length) + k) * inner, inner));
            }
        }

        dims[1] = keep.Length;
        Replace(tensor, dims, kept);
    }

    private static TensorProto Initializer(Dictionary<string, TensorProto> initializers, string name)
        => initializers.TryGetValue(name, out var tensor) ? tensor
            : throw new NotSupportedException($"'{name}' is computed by the graph, not stored as an initializer; it cannot be pruned.");

    private static void Replace(TensorProto tensor, long[] dims, float[] values)
    {
        var fresh = OnnxTensors.FloatTensor(tensor.Name, dims, values);
        tensor.Dims.Clear();
        tensor.Dims.AddRange(fresh.Dims);
        tensor.FloatData.Clear();
        tensor.RawData = fresh.RawData;
    }
}
