using Google.Protobuf;
using Onnx;
using TSViz.Explain.Models;
using static TSViz.Explain.Onnx.OnnxGraphBuilder;

namespace TSViz.Explain.Onnx;

/// <summary>
/// Writes a <see cref="ConvNet1d"/> as an ONNX model with its metadata. Graph outputs: "score" (the probability,
/// or the value of a forecaster) and, for probability models, "logit" (the sigmoid's input, whose gradients do not
/// saturate). Initializers carry the module's parameter names.
/// </summary>
public static class OnnxExporter
{
    /// <summary>Name of the graph input the exporter writes.</summary>
    public const string InputName = "input";
    /// <summary>Name of the output the monitor scores with (probability or value).</summary>
    public const string ScoreOutput = "score";
    /// <summary>Name of the extra output of probability models: the sigmoid's input.</summary>
    public const string LogitOutput = "logit";
    /// <summary>metadata_props key naming the logit output, so readers need not guess it.</summary>
    public const string LogitOutputKey = "tsviz.logit_output";

    /// <summary>The module as an ONNX model (IR 8, opset 17) with <paramref name="metadata"/>, which must match its shape.</summary>
    /// <exception cref="ArgumentException">The metadata's channels, window length or output kind disagree with the module.</exception>
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

        var builder = new OnnxGraphBuilder(metadata.Name, spec.InputChannels, spec.WindowLength, InputName);
        foreach (var (name, shape, values) in model.ExportParameters())
        {
            builder.Initializer(name, shape, values);
        }

        string current = builder.Input;
        for (int i = 0; i < spec.Blocks.Count; i++)
        {
            var block = spec.Blocks[i];
            string conv = ConvNet1d.ConvName(i);
            current = builder.Node("Conv", conv, [current, $"{conv}.weight", $"{conv}.bias"], null,
                IntsAttribute("kernel_shape", block.KernelSize), IntsAttribute("strides", 1), IntsAttribute("pads", 0, 0), IntsAttribute("dilations", 1), IntAttribute("group", 1));
            current = builder.Node("LeakyRelu", $"{conv}_act", [current], null, FloatAttribute("alpha", (float)spec.LeakySlope));
            if (block.PoolSize > 1)
            {
                current = builder.Node("MaxPool", $"pool{i + 1}", [current], null,
                    IntsAttribute("kernel_shape", block.PoolSize), IntsAttribute("strides", block.PoolSize), IntsAttribute("pads", 0, 0));
            }
        }

        current = builder.Node("Flatten", "flatten", [current], null, IntAttribute("axis", 1));
        string dense = ConvNet1d.DenseName;
        bool probability = spec.Output == OutputKind.Probability;
        builder.Node("Gemm", dense, [current, $"{dense}.weight", $"{dense}.bias"], probability ? LogitOutput : ScoreOutput, IntAttribute("transB", 1));
        builder.Output(ScoreOutput, 1);
        if (probability)
        {
            builder.Node("Sigmoid", "sigmoid", [LogitOutput], ScoreOutput);
            builder.Output(LogitOutput, 1);
        }

        return builder.Build(
            metadata,
            $"{metadata.Name} {metadata.Version}: TSViz reference 1-D CNN ({spec.TotalFilters} conv filters).",
            probability ? [new(LogitOutputKey, LogitOutput)] : null);
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>, creating its folder.</summary>
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
}
