using System.Buffers.Binary;
using Google.Protobuf;
using Onnx;

namespace TSViz.Explain.Onnx;

/// <summary>Conversions between float arrays and ONNX TensorProto (little-endian raw_data).</summary>
public static class OnnxTensors
{
    /// <summary>A float tensor of <paramref name="shape"/> stored as little-endian raw_data.</summary>
    public static TensorProto FloatTensor(string name, long[] shape, ReadOnlySpan<float> values)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(shape);
        return tensor;
    }

    /// <summary>The values of a float tensor, from float_data or raw_data, whichever the writer used.</summary>
    /// <exception cref="ModelFileException">The tensor is not float.</exception>
    public static float[] ReadFloats(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
        {
            throw new ModelFileException($"Initializer '{tensor.Name}' has data type {(TensorProto.Types.DataType)tensor.DataType}; only float is supported.");
        }

        if (tensor.FloatData.Count > 0)
        {
            return [.. tensor.FloatData];
        }

        var raw = tensor.RawData.Span;
        var values = new float[raw.Length / sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * sizeof(float))..]);
        }

        return values;
    }

    /// <summary>Every initializer of <paramref name="graph"/> by name.</summary>
    /// <exception cref="ModelFileException">An initializer is not float.</exception>
    public static IReadOnlyDictionary<string, float[]> ReadFloatInitializers(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Initializer.ToDictionary(t => t.Name, ReadFloats, StringComparer.Ordinal);
    }
}
