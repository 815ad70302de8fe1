using Onnx;
using TSViz.Explain.Graph;
using TSViz.Explain.Onnx;

namespace TSViz.Explain.Compiled;

/// <summary>
/// The deployed graph compiled once into a fixed kernel sequence on the CPU, for the family the monitor ships:
/// [Conv1d, ReLU or LeakyReLU, MaxPool]* then Flatten, a single-output Gemm and an optional Sigmoid. Forward and
/// backward are SIMD loops over a block of windows (<see cref="ConvNetPass"/>) on exactly the file's weights; no
/// operator is interpreted and nothing is allocated per window. Any other graph keeps the general TorchSharp path
/// (<see cref="OnnxGraph"/>), which is also the reference this path is tested against.
/// </summary>
internal sealed class CompiledConvNet : IDisposable
{
    private readonly Stack<ConvNetPass> passes = [];
    private readonly Lock gate = new();
    private bool disposed;

    private CompiledConvNet(ConvStage[] stages, float[] denseWeight, float denseBias, bool sigmoid, int channels, int length)
    {
        Stages = stages;
        DenseWeight = denseWeight;
        DenseBias = denseBias;
        Sigmoid = sigmoid;
        Channels = channels;
        Length = length;
    }

    /// <summary>The conv blocks, input side first (one per <see cref="OnnxGraph.Layers"/> entry).</summary>
    public IReadOnlyList<ConvStage> Stages { get; }

    /// <summary>The Gemm's weights over the flattened last block (channel-major), alpha folded in.</summary>
    public float[] DenseWeight { get; }

    /// <summary>The Gemm's bias times beta.</summary>
    public float DenseBias { get; }

    /// <summary>Whether a Sigmoid turns the logit into the score.</summary>
    public bool Sigmoid { get; }

    /// <summary>Input channels.</summary>
    public int Channels { get; }

    /// <summary>Input steps.</summary>
    public int Length { get; }

    /// <summary>
    /// Compiles <paramref name="graph"/> when it belongs to the family; otherwise null with the reason (which node,
    /// which attribute), so the general path is chosen knowingly.
    /// </summary>
    public static CompiledConvNet? TryCompile(OnnxGraph graph, out string reason)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var model = graph.File.Model.Graph;
        var initializers = model.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var consumers = model.Node.SelectMany(n => n.Input.Where(i => !string.IsNullOrEmpty(i)).Select(i => (Input: i, Node: n)))
            .ToLookup(p => p.Input, p => p.Node, StringComparer.Ordinal);
        int channels = graph.Metadata.Channels.Count;
        int length = graph.Metadata.WindowLength;
        string current = graph.InputName;
        var stages = new List<ConvStage>();
        int matched = 0;

        NodeProto? Next(string tensor) => consumers[tensor].ToList() is [var only] ? only : null;
        bool AllOnes(long[]? values) => values is null || values.All(v => v == 1);

        reason = string.Empty;
        while (Next(current) is { OpType: "Conv" } conv)
        {
            if (!ConvWeights(conv, initializers, channels, out var weight, out var bias, out int filters, out int kernel, out reason)
                || !ConvAttributes(conv, out long padBegin, out long padEnd, out reason))
            {
                return null;
            }

            matched++;
            current = conv.Output[0];
            float slope = 1f;
            if (Next(current) is { OpType: "Relu" or "LeakyRelu" } activation)
            {
                slope = activation.OpType == "Relu" ? 0f : activation.Float("alpha", 0.01f);
                if (slope < 0)
                {
                    reason = $"node '{activation.Label()}' has a negative slope";
                    return null;
                }

                matched++;
                current = activation.Output[0];
            }

            var layerTensor = current;
            int pool = 1;
            if (Next(current) is { OpType: "MaxPool" } maxPool)
            {
                long width = maxPool.Ints("kernel_shape") is [long w] ? w : -1;
                long stride = maxPool.Ints("strides") is [long s] ? s : 1;
                if (width < 1 || stride != width || maxPool.Int("ceil_mode", 0) != 0 || !AllOnes(maxPool.Ints("dilations"))
                    || (maxPool.Ints("pads") ?? []).Any(p => p != 0) || maxPool.String("auto_pad", "NOTSET") is not ("NOTSET" or "VALID")
                    || maxPool.Output.Skip(1).Any(o => !string.IsNullOrEmpty(o)))
                {
                    reason = $"node '{maxPool.Label()}' is not a 1-D max-pooling with stride equal to its width, no padding, no dilation, floor mode";
                    return null;
                }

                pool = (int)width;
                matched++;
                current = maxPool.Output[0];
            }

            var stage = new ConvStage(string.IsNullOrEmpty(conv.Name) ? conv.Output[0] : conv.Name, channels, length, filters, kernel, (int)padBegin, (int)padEnd, weight, bias, slope, pool);
            if (stage.OutLength < 1 || stages.Count >= graph.Layers.Count || graph.Layers[stages.Count].ActivationTensor != layerTensor)
            {
                reason = $"conv node '{conv.Label()}' does not match the graph's layer {stages.Count + 1}";
                return null;
            }

            stages.Add(stage);
            channels = filters;
            length = stage.OutLength;
        }

        if (stages.Count == 0 || stages.Count != graph.Layers.Count)
        {
            reason = "the graph does not start with a chain of Conv blocks covering all its conv layers";
            return null;
        }

        if (Next(current) is not { OpType: "Flatten" } flatten || flatten.Int("axis", 1) != 1)
        {
            reason = Next(current) is { } other
                ? $"node '{other.Label()}' ({other.OpType}) follows the conv blocks, where the family has a Flatten on axis 1"
                : $"tensor '{current}' after the conv blocks is not read by exactly one node (a Flatten on axis 1)";
            return null;
        }

        matched++;
        if (!Dense(Next(flatten.Output[0]), initializers, channels * length, out var denseWeight, out float denseBias, out string logit, out reason))
        {
            return null;
        }

        matched++;
        bool sigmoid = false;
        string output = logit;
        if (Next(logit) is { OpType: "Sigmoid" } final)
        {
            sigmoid = true;
            matched++;
            output = final.Output[0];
        }

        if (output != graph.ScoreOutput || matched != model.Node.Count || (sigmoid && graph.LogitTensor != logit))
        {
            reason = $"the graph has nodes or outputs besides the conv chain, Flatten, Gemm and Sigmoid ({model.Node.Count - matched} more nodes)";
            return null;
        }

        return new CompiledConvNet([.. stages], denseWeight, denseBias, sigmoid, graph.Metadata.Channels.Count, graph.Metadata.WindowLength);
    }

    /// <summary>A workspace for one thread; give it back with <see cref="Return"/>.</summary>
    public ConvNetPass Rent()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (passes.TryPop(out var pass))
            {
                return pass;
            }
        }

        return new ConvNetPass(this);
    }

    /// <summary>Gives a workspace back for the next call.</summary>
    public void Return(ConvNetPass pass)
    {
        ArgumentNullException.ThrowIfNull(pass);
        lock (gate)
        {
            if (!disposed)
            {
                passes.Push(pass);
                return;
            }
        }

        pass.Dispose();
    }

    /// <summary>Frees the workspaces' native buffers.</summary>
    public void Dispose()
    {
        ConvNetPass[] idle;
        lock (gate)
        {
            disposed = true;
            idle = [.. passes];
            passes.Clear();
        }

        foreach (var pass in idle)
        {
            pass.Dispose();
        }
    }

    private static bool ConvWeights(NodeProto conv, Dictionary<string, TensorProto> initializers, int channels,
        out float[] weight, out float[] bias, out int filters, out int kernel, out string reason)
    {
        weight = bias = [];
        filters = kernel = 0;
        if (conv.Input.Count < 2 || !initializers.TryGetValue(conv.Input[1], out var w) || w.Dims.Count != 3
            || w.DataType != (int)TensorProto.Types.DataType.Float || w.Dims[1] != channels)
        {
            reason = $"conv node '{conv.Label()}' has no 1-D float weight initializer over {channels} input channels";
            return false;
        }

        filters = (int)w.Dims[0];
        kernel = (int)w.Dims[2];
        weight = OnnxTensors.ReadFloats(w);
        bias = new float[filters];
        if (conv.Input.Count > 2 && !string.IsNullOrEmpty(conv.Input[2]))
        {
            if (!initializers.TryGetValue(conv.Input[2], out var b) || b.DataType != (int)TensorProto.Types.DataType.Float || OnnxTensors.ReadFloats(b) is not { } values || values.Length != filters)
            {
                reason = $"conv node '{conv.Label()}' has a bias that is not a float initializer of {filters} values";
                return false;
            }

            bias = values;
        }

        reason = string.Empty;
        return true;
    }

    private static bool ConvAttributes(NodeProto conv, out long padBegin, out long padEnd, out string reason)
    {
        padBegin = padEnd = 0;
        bool unit(string name) => conv.Ints(name) is null or [1];
        if (!unit("strides") || !unit("dilations") || conv.Int("group", 1) != 1 || conv.Ints("kernel_shape") is { Length: not 1 }
            || conv.String("auto_pad", "NOTSET") is not ("NOTSET" or "VALID"))
        {
            reason = $"conv node '{conv.Label()}' has a stride, dilation, group or automatic padding other than the plain 1-D convolution";
            return false;
        }

        switch (conv.Ints("pads"))
        {
            case null or []:
                break;
            case [long begin, long end] when begin >= 0 && end >= 0 && conv.String("auto_pad", "NOTSET") == "NOTSET":
                padBegin = begin;
                padEnd = end;
                break;
            default:
                reason = $"conv node '{conv.Label()}' has pads other than one begin and one end";
                return false;
        }

        reason = string.Empty;
        return true;
    }

    private static bool Dense(NodeProto? gemm, Dictionary<string, TensorProto> initializers, int inputs, out float[] weight, out float bias, out string output, out string reason)
    {
        weight = [];
        bias = 0;
        output = string.Empty;
        if (gemm is not { OpType: "Gemm" } || gemm.Int("transA", 0) != 0 || gemm.Input.Count < 2
            || !initializers.TryGetValue(gemm.Input[1], out var w) || w.DataType != (int)TensorProto.Types.DataType.Float || w.Dims.Count != 2)
        {
            reason = "the Flatten is not followed by a Gemm with a float weight initializer";
            return false;
        }

        bool transB = gemm.Int("transB", 0) != 0;
        long outputs = transB ? w.Dims[0] : w.Dims[1];
        long depth = transB ? w.Dims[1] : w.Dims[0];
        if (outputs != 1 || depth != inputs)
        {
            reason = $"Gemm node '{gemm.Label()}' has {outputs} outputs over {depth} inputs; the compiled path takes one output over the {inputs} flattened values";
            return false;
        }

        float alpha = gemm.Float("alpha", 1f);
        float beta = gemm.Float("beta", 1f);
        // One output: the [1, F] and [F, 1] layouts hold the same F values in the same order.
        weight = [.. OnnxTensors.ReadFloats(w).Select(v => v * alpha)];
        if (gemm.Input.Count > 2 && !string.IsNullOrEmpty(gemm.Input[2]))
        {
            if (!initializers.TryGetValue(gemm.Input[2], out var c) || c.DataType != (int)TensorProto.Types.DataType.Float || OnnxTensors.ReadFloats(c) is not [float value])
            {
                reason = $"Gemm node '{gemm.Label()}' has a bias that is not a single float initializer";
                return false;
            }

            bias = value * beta;
        }

        output = gemm.Output[0];
        reason = string.Empty;
        return true;
    }
}
