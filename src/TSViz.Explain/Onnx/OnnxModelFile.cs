using Google.Protobuf;
using Onnx;

namespace TSViz.Explain.Onnx;

/// <summary>A deployed ONNX model: its graph and its declared metadata.</summary>
/// <param name="Path">Where the model was read from (or a description of an in-memory model), for messages.</param>
/// <param name="Model">The ONNX protobuf: graph, initializers, opsets, metadata_props.</param>
/// <param name="Metadata">The parsed and validated metadata_props.</param>
public sealed record OnnxModelFile(string Path, ModelProto Model, ModelMetadata Metadata)
{
    /// <summary>Reads and validates a model file.</summary>
    /// <exception cref="ModelFileException">The file is missing, is not an ONNX model, or lacks metadata.</exception>
    public static OnnxModelFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new ModelFileException(
                $"Model file '{path}' does not exist (full path: {System.IO.Path.GetFullPath(path)}). "
                + "Point the model setting at an ONNX file, e.g. models/anomaly-cnn.onnx, or create one with the `train` and `export` verbs.");
        }

        ModelProto model;
        try
        {
            using var stream = File.OpenRead(path);
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new ModelFileException(
                $"Model file '{path}' is not a valid ONNX model ({ex.Message}). "
                + "The file may be truncated or not an ONNX file at all; copy it again or re-export it with the `export` verb.", ex);
        }

        if (model.Graph is null || model.Graph.Node.Count == 0)
        {
            throw new ModelFileException(
                $"Model file '{path}' holds no graph (is it an ONNX model?). Re-export it with the `export` verb.");
        }

        var props = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in model.MetadataProps)
        {
            props[entry.Key] = entry.Value;
        }

        return new OnnxModelFile(path, model, ModelMetadata.Parse(props, path));
    }

    /// <summary>Float initializers by name (raw_data or float_data).</summary>
    public IReadOnlyDictionary<string, float[]> FloatInitializers() => OnnxTensors.ReadFloatInitializers(Model.Graph);
}
