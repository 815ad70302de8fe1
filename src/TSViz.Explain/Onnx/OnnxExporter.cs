using System.Reflection;
using Google.Protobuf;
using Onnx;
using TSViz.Explain.Models;

namespace TSViz.Explain.Onnx;

/// <summary>
/// Writes a <see cref="ConvNet1d"/> as an ONNX model (IR 8, opset 17) with its metadata. Graph outputs:
/// "score" (the probability, or the value of a forecaster) and, for probability models, "logit" (the sigmoid's
/// input, whose gradients do not saturate). Initializers carry the module's parameter names.
/// </summary>
public static class OnnxExporter
{
    public const long IrVersion = 8;
    public const long Opset = 17;
    public const string InputName = "input";
    public const string ScoreOutput = "score";
    public const string LogitOutput = "logit";
    public const string LogitOutputKey = "tsviz.logit_output";

    public static ModelProto Export(ConvNet1d model, ModelMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metadata);
        var spec = model.Spec;
        if (metadata.Channels.Count != spec.InputChannels || metadata.WindowLength != spec.WindowLength || metadata.OutputKind != spec.Output)
        {
            throw new ArgumentException(
                $"Metadata ({metadata.Channels.Count} channels, window {metadata.WindowLength}, {metadata.OutputKind}) does not match the model "
                + $"({spec.InputChannels} channels, window {spec.WindowLength}, {spec.Output}).", nameof(metadata));
        }

        var graph = new GraphProto { Name = metadata.Name };
        graph.Input.Add(TensorValue(InputName, "batch", spec.InputChannels, spec.WindowLength));
        foreach (var (name, shape, values) in model.ExportParameters())
        {
            graph.Initializer.Add(OnnxTensors.FloatTensor(name, shape, values));
        }

        string current = InputName;
        for (int i = 0; i < spec.Blocks.Count; i++)
        {
            var block = spec.Blocks[i];
            string conv = ConvNet1d.ConvName(i);
            current = AddNode(graph, "Conv", conv, [current, $"{conv}.weight", $"{conv}.bias"],
                Ints("kernel_shape", block.KernelSize), Ints("strides", 1), Ints("pads", 0, 0), Ints("dilations", 1), Int("group", 1));
            current = AddNode(graph, "LeakyRelu", $"{conv}_act", [current], Float("alpha", (float)spec.LeakySlope));
            if (block.PoolSize > 1)
            {
                current = AddNode(graph, "MaxPool", $"pool{i + 1}", [current],
                    Ints("kernel_shape", block.PoolSize), Ints("strides", block.PoolSize), Ints("pads", 0, 0));
            }
        }

        current = AddNode(graph, "Flatten", "flatten", [current], Int("axis", 1));
        string dense = ConvNet1d.DenseName;
        bool probability = spec.Output == OutputKind.Probability;
        AddNode(graph, "Gemm", dense, [current, $"{dense}.weight", $"{dense}.bias"], probability ? LogitOutput : ScoreOutput, Int("transB", 1));
        if (probability)
        {
            AddNode(graph, "Sigmoid", "sigmoid", [LogitOutput], ScoreOutput);
            graph.Output.Add(TensorValue(ScoreOutput, "batch", 1));
            graph.Output.Add(TensorValue(LogitOutput, "batch", 1));
        }
        else
        {
            graph.Output.Add(TensorValue(ScoreOutput, "batch", 1));
        }

        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "TSViz.Explain",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0",
            Domain = "tsviz",
            DocString = $"{metadata.Name} {metadata.Version}: TSViz reference 1-D CNN ({spec.TotalFilters} conv filters).",
            Graph = graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        foreach (var (key, value) in metadata.ToProperties())
        {
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        if (probability)
        {
            proto.MetadataProps.Add(new StringStringEntryProto { Key = LogitOutputKey, Value = LogitOutput });
        }

        return proto;
    }

    public static void Save(ModelProto model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        using var stream = File.Create(path);
        model.WriteTo(stream);
    }

    private static string AddNode(GraphProto graph, string opType, string name, string[] inputs, params AttributeProto[] attributes)
        => AddNode(graph, opType, name, inputs, $"{name}_out", attributes);

    private static string AddNode(GraphProto graph, string opType, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { Name = name, OpType = opType };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

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

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };
}
