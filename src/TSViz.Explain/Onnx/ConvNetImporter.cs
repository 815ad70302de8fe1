using Onnx;
using TSViz.Explain.Models;

namespace TSViz.Explain.Onnx;

/// <summary>
/// Rebuilds a <see cref="ConvNet1d"/> with the exact weights of an ONNX file of the reference CNN family
/// (Conv, LeakyRelu, optional MaxPool, repeated; Flatten; Gemm; optional Sigmoid). Anything else is refused
/// with the node that does not fit, never approximated.
/// </summary>
public static class ConvNetImporter
{
    /// <summary>A module in evaluation mode carrying the file's weights exactly.</summary>
    /// <exception cref="ModelFileException">The graph is not of the reference CNN family; the message names the node.</exception>
    public static ConvNet1d Import(OnnxModelFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var spec = ReadSpec(file.Model.Graph, file.Metadata, file.Path);
        var model = new ConvNet1d(spec);
        model.LoadParameters(file.FloatInitializers());
        model.eval();
        return model;
    }

    /// <summary>The network shape of <paramref name="graph"/>, checked node by node; <paramref name="source"/> names the file in messages.</summary>
    /// <exception cref="ModelFileException">The graph is not of the reference CNN family.</exception>
    public static ConvNetSpec ReadSpec(GraphProto graph, ModelMetadata metadata, string source)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(metadata);
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var blocks = new List<ConvBlockSpec>();
        double? slope = null;
        bool sawSigmoid = false;
        bool sawGemm = false;
        var nodes = graph.Node;
        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            switch (node.OpType)
            {
                case "Conv" when !sawGemm:
                    {
                        var weight = initializers.GetValueOrDefault(node.Input.ElementAtOrDefault(1) ?? string.Empty)
                            ?? throw Unsupported(source, node, "its weight is not an initializer");
                        RequireDefault(source, node, "strides", 1);
                        RequireDefault(source, node, "dilations", 1);
                        RequireDefault(source, node, "pads", 0);
                        RequireDefault(source, node, "group", 1);
                        if (node.Input.Count < 3 || !initializers.ContainsKey(node.Input[2]))
                        {
                            throw Unsupported(source, node, "a Conv without bias initializer");
                        }

                        blocks.Add(new ConvBlockSpec((int)weight.Dims[0], (int)weight.Dims[2], 0));
                        break;
                    }

                case "LeakyRelu" when blocks.Count > 0:
                    {
                        float alpha = node.Attribute.FirstOrDefault(a => a.Name == "alpha")?.F ?? 0.01f;
                        if (slope is double s && Math.Abs(s - alpha) > 1e-7)
                        {
                            throw Unsupported(source, node, "LeakyRelu slopes differ between layers");
                        }

                        slope = alpha;
                        break;
                    }

                case "MaxPool" when blocks.Count > 0 && blocks[^1].PoolSize == 0:
                    {
                        long kernel = node.Attribute.First(a => a.Name == "kernel_shape").Ints[0];
                        var strides = node.Attribute.FirstOrDefault(a => a.Name == "strides")?.Ints;
                        if (strides is not null && strides.Count > 0 && strides[0] != kernel)
                        {
                            throw Unsupported(source, node, "a MaxPool whose stride differs from its kernel");
                        }

                        RequireDefault(source, node, "pads", 0);
                        blocks[^1] = blocks[^1] with { PoolSize = (int)kernel };
                        break;
                    }

                case "Flatten":
                    break;
                case "Gemm" when !sawGemm:
                    sawGemm = true;
                    break;
                case "Sigmoid" when sawGemm:
                    sawSigmoid = true;
                    break;
                default:
                    throw Unsupported(source, node, $"operator {node.OpType} at this place");
            }
        }

        if (blocks.Count == 0 || !sawGemm || slope is null)
        {
            throw new ModelFileException($"Model '{source}' is not a conv -> dense network of the reference family (no Conv, LeakyRelu or Gemm found).");
        }

        var output = sawSigmoid ? OutputKind.Probability : OutputKind.Value;
        int inputChannels = (int)graph.Initializer.First(t => t.Name == nodes.First(n => n.OpType == "Conv").Input[1]).Dims[1];
        return new ConvNetSpec(inputChannels, metadata.WindowLength, blocks, slope.Value, output);
    }

    private static void RequireDefault(string source, NodeProto node, string attribute, long expected)
    {
        var found = node.Attribute.FirstOrDefault(a => a.Name == attribute);
        if (found is null)
        {
            return;
        }

        bool matches = found.Type == AttributeProto.Types.AttributeType.Int ? found.I == expected : found.Ints.All(v => v == expected);
        if (!matches)
        {
            throw Unsupported(source, node, $"{attribute} other than {expected}");
        }
    }

    private static ModelFileException Unsupported(string source, NodeProto node, string what)
        => new($"Model '{source}': node '{node.Name}' ({node.OpType}) is not supported by the reference-CNN importer: {what}.");
}
