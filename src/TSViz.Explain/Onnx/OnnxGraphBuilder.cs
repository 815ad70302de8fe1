using System.Reflection;
using Onnx;

namespace TSViz.Explain.Onnx;

/// <summary>
/// The project's ONNX writer: builds a graph node by node with float initializers and writes a model (IR 8,
/// opset 17) with the metadata the monitor reads. Used by the reference-model exporter, the pruned-model
/// export and tests that need arbitrary conv graphs.
/// </summary>
public sealed class OnnxGraphBuilder
{
    /// <summary>The ONNX IR version written (accepted by ONNX Runtime 1.31 and python3-onnx 1.12's checker).</summary>
    public const long IrVersion = 8;
    /// <summary>The default-domain opset the graphs are written for.</summary>
    public const long Opset = 17;

    private readonly GraphProto graph;
    private readonly HashSet<string> names = new(StringComparer.Ordinal);

    /// <summary>Starts a graph whose input <paramref name="inputName"/> is batch x channels x length floats.</summary>
    public OnnxGraphBuilder(string graphName, int channels, int length, string inputName = "input")
    {
        graph = new GraphProto { Name = graphName };
        graph.Input.Add(TensorValue(inputName, "batch", channels, length));
        Input = inputName;
        names.Add(inputName);
    }

    /// <summary>Name of the graph's input, for the first node to read.</summary>
    public string Input { get; }

    /// <summary>Adds a float initializer and returns its name.</summary>
    public string Initializer(string name, long[] shape, ReadOnlySpan<float> values)
    {
        Claim(name);
        graph.Initializer.Add(OnnxTensors.FloatTensor(name, shape, values));
        return name;
    }

    /// <summary>Adds an int64 initializer (shapes, axes) and returns its name.</summary>
    public string Int64Initializer(string name, params long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Claim(name);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Adds a node with one output named <paramref name="output"/> (default: "{name}_out") and returns that output.</summary>
    public string Node(string opType, string name, IEnumerable<string> inputs, string? output = null, params AttributeProto[] attributes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        output ??= $"{name}_out";
        Claim(output);
        var node = new NodeProto { Name = name, OpType = opType };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

    /// <summary>Declares a graph output of shape batch x dims.</summary>
    public void Output(string name, params long[] dims) => graph.Output.Add(TensorValue(name, "batch", dims));

    /// <summary>The model with its metadata and any extra properties.</summary>
    public ModelProto Build(ModelMetadata metadata, string docString, IEnumerable<KeyValuePair<string, string>>? extraProperties = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "TSViz.Explain",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0",
            Domain = "tsviz",
            DocString = docString,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        foreach (var (key, value) in metadata.ToProperties().Concat(extraProperties ?? []))
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return model;
    }

    /// <summary>A node attribute holding a list of integers (kernel_shape, pads, ...).</summary>
    public static AttributeProto IntsAttribute(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>A node attribute holding one integer (axis, transB, ...).</summary>
    public static AttributeProto IntAttribute(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A node attribute holding one float (alpha, epsilon, ...).</summary>
    public static AttributeProto FloatAttribute(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>A node attribute holding a UTF-8 string (auto_pad, ...).</summary>
    public static AttributeProto StringAttribute(string name, string value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(value) };

    private static ValueInfoProto TensorValue(string name, string batchParam, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batchParam });
        foreach (long dim in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private void Claim(string name)
    {
        if (!names.Add(name))
        {
            throw new ArgumentException($"The graph already has a tensor named '{name}'.", nameof(name));
        }
    }
}
