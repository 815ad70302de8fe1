using Onnx;

namespace TSViz.Explain.Graph;

/// <summary>Typed access to a node's attributes, with ONNX's defaults.</summary>
internal static class OnnxAttributes
{
    public static long Int(this NodeProto node, string name, long fallback)
        => node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    public static float Float(this NodeProto node, string name, float fallback)
        => node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;

    public static string String(this NodeProto node, string name, string fallback)
        => node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.S.ToStringUtf8() : fallback;

    public static long[]? Ints(this NodeProto node, string name)
        => node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? [.. a.Ints] : null;

    public static TensorProto? Tensor(this NodeProto node, string name)
        => node.Attribute.FirstOrDefault(a => a.Name == name)?.T;

    public static bool Has(this NodeProto node, string name) => node.Attribute.Any(a => a.Name == name);

    /// <summary>The node's name for messages: its name, or its first output when it has none.</summary>
    public static string Label(this NodeProto node) => string.IsNullOrEmpty(node.Name) ? $"(unnamed, output {node.Output.FirstOrDefault()})" : node.Name;
}
