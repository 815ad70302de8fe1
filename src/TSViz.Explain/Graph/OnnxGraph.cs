using Onnx;
using TorchSharp;
using TSViz.Explain.Onnx;
using TSViz.Explain.Runtime;
using static TorchSharp.torch;

namespace TSViz.Explain.Graph;

/// <summary>
/// The deployed ONNX graph as a differentiable TorchSharp computation on exactly the file's weights. Nodes run
/// in the file's (topological) order; any tensor of the graph can be read after a run, and a run can stop at
/// the tensor it needs. Operators outside <see cref="NodeKernels.Supported"/> are refused when the graph is
/// built, naming the node.
/// </summary>
public sealed class OnnxGraph : IDisposable
{
    private readonly Dictionary<string, Tensor> constants;
    private readonly List<Scalar> scalars;
    private readonly CompiledNode[] nodes;
    private readonly Dictionary<string, int> producers;
    private readonly Dictionary<string, CompiledNode[]> plans = new(StringComparer.Ordinal);
    private readonly Lock planGate = new();

    private OnnxGraph(OnnxModelFile file, Dictionary<string, Tensor> constants, List<Scalar> scalars, CompiledNode[] nodes, string input)
    {
        File = file;
        this.constants = constants;
        this.scalars = scalars;
        this.nodes = nodes;
        InputName = input;
        producers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Length; i++)
        {
            producers[nodes[i].Output] = i;
        }

        var outputs = file.Model.Graph.Output.Select(o => o.Name).ToList();
        ScoreOutput = outputs.Contains(OnnxExporter.ScoreOutput) ? OnnxExporter.ScoreOutput : outputs[0];
        var last = producers.TryGetValue(ScoreOutput, out int p) ? nodes[p] : null;
        if (last is { Node.OpType: "Sigmoid" or "Softmax" })
        {
            FinalActivation = last.Node.OpType;
            LogitTensor = last.Inputs[0];
        }
        else
        {
            FinalActivation = "none";
        }

        Layers = DiscoverLayers();
    }

    /// <summary>The model file this graph was built from.</summary>
    public OnnxModelFile File { get; }

    /// <summary>What the file declares: channels, window length, preprocessing, decision threshold.</summary>
    public ModelMetadata Metadata => File.Metadata;

    /// <summary>The graph input that takes the (preprocessed) windows, batch x channels x length.</summary>
    public string InputName { get; }

    /// <summary>The tensor the monitor reports as the score.</summary>
    public string ScoreOutput { get; }

    /// <summary>The input of a final Sigmoid or Softmax, if the model ends in one.</summary>
    public string? LogitTensor { get; }

    /// <summary>Sigmoid, Softmax or none.</summary>
    public string FinalActivation { get; }

    /// <summary>The conv layers, from the input.</summary>
    public IReadOnlyList<ModelLayer> Layers { get; }

    /// <summary>Total filters over all conv layers.</summary>
    public int TotalFilters => Layers.Sum(l => l.Filters);

    /// <summary>Loads, validates and compiles a model file.</summary>
    /// <exception cref="ModelFileException">The file is unusable or uses an operator that is not supported.</exception>
    public static OnnxGraph Load(string path) => Build(OnnxModelFile.Load(path));

    /// <summary>Compiles a model already read (an edited or pruned one held in memory); see <see cref="Load"/>.</summary>
    /// <exception cref="ModelFileException">The graph uses an operator that is not supported, or a tensor type other than float.</exception>
    public static OnnxGraph Build(OnnxModelFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        TorchRuntime.EnsureInitialized();
        var graph = file.Model.Graph;
        long opset = file.Model.OpsetImport.FirstOrDefault(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx")?.Version ?? 1;
        // The kernels' Scalars (activation slopes, Gemm factors, epsilons) live exactly as long as the graph.
        var scalars = new List<Scalar>();
        var constants = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            var compiled = graph.Node.Select(n => new CompiledNode(
                n, [.. n.Input], n.Output[0], NodeKernels.Compile(n, opset, file.Path, scalars))).ToArray();
            using (no_grad())
            {
                foreach (var initializer in graph.Initializer)
                {
                    constants[initializer.Name] = ToTensor(initializer, file.Path).DetachFromDisposeScope();
                }
            }

            var inputs = graph.Input.Where(i => !constants.ContainsKey(i.Name)).Select(i => i.Name).ToList();
            if (inputs.Count != 1)
            {
                throw new ModelFileException($"Model '{file.Path}' has {inputs.Count} non-initializer inputs ({string.Join(", ", inputs)}); the explainer needs exactly one (batch x channels x time).");
            }

            return new OnnxGraph(file, constants, scalars, compiled, inputs[0]);
        }
        catch
        {
            DisposeAll(constants.Values);
            DisposeAll(scalars);
            throw;
        }
    }

    /// <summary>
    /// Runs the graph on a batch (N x channels x time) and returns every tensor it computed, by name. With
    /// <paramref name="until"/>, runs only the nodes that tensor depends on. Tensors belong to the caller's
    /// dispose scope.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Run(Tensor input, string? until = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var values = new Dictionary<string, Tensor>(constants, StringComparer.Ordinal) { [InputName] = input };
        foreach (var node in Plan(until))
        {
            var arguments = new Tensor?[node.Inputs.Length];
            for (int i = 0; i < arguments.Length; i++)
            {
                string name = node.Inputs[i];
                arguments[i] = string.IsNullOrEmpty(name) ? null : values[name];
            }

            try
            {
                values[node.Output] = node.Kernel(arguments);
            }
            catch (Exception ex) when (ex is System.Runtime.InteropServices.ExternalException or InvalidOperationException)
            {
                throw new InvalidOperationException(
                    $"Node '{node.Node.Label()}' ({node.Node.OpType}) failed on inputs of shapes {string.Join(", ", arguments.Select(a => a is null ? "-" : $"[{string.Join(", ", a.shape)}]"))}: {ex.Message.Split('\n')[0]}", ex);
            }
        }

        return values;
    }

    /// <summary>The deployed output (the score) for a batch.</summary>
    public Tensor Forward(Tensor input) => Run(input, ScoreOutput)[ScoreOutput];

    /// <summary>Frees the weights and the kernels' Scalars (native memory).</summary>
    public void Dispose()
    {
        DisposeAll(constants.Values);
        DisposeAll(scalars);
    }

    internal static Tensor ToTensor(TensorProto proto, string source)
    {
        long[] dims = [.. proto.Dims];
        switch ((TensorProto.Types.DataType)proto.DataType)
        {
            case TensorProto.Types.DataType.Float:
                return tensor(OnnxTensors.ReadFloats(proto), dims);
            case TensorProto.Types.DataType.Int64:
                long[] values = proto.Int64Data.Count > 0
                    ? [.. proto.Int64Data]
                    : Enumerable.Range(0, proto.RawData.Length / sizeof(long)).Select(i => BitConverter.ToInt64(proto.RawData.Span[(i * sizeof(long))..])).ToArray();
                return tensor(values, dims);
            default:
                throw new ModelFileException(
                    $"Model '{source}': tensor '{proto.Name}' has data type {(TensorProto.Types.DataType)proto.DataType}; the explainer supports float and int64 tensors.");
        }
    }

    private static void DisposeAll(IEnumerable<IDisposable> owned)
    {
        foreach (var item in owned)
        {
            item.Dispose();
        }
    }

    private CompiledNode[] Plan(string? until)
    {
        if (until is null)
        {
            return nodes;
        }

        lock (planGate)
        {
            if (plans.TryGetValue(until, out var cached))
            {
                return cached;
            }

            if (!producers.ContainsKey(until))
            {
                throw new ArgumentException($"The graph computes no tensor named '{until}'.", nameof(until));
            }

            var needed = new HashSet<int>();
            var pending = new Stack<string>([until]);
            while (pending.TryPop(out var name))
            {
                if (producers.TryGetValue(name, out int index) && needed.Add(index))
                {
                    foreach (var input in nodes[index].Inputs.Where(i => !string.IsNullOrEmpty(i)))
                    {
                        pending.Push(input);
                    }
                }
            }

            var plan = needed.Order().Select(i => nodes[i]).ToArray();
            plans[until] = plan;
            return plan;
        }
    }

    private List<ModelLayer> DiscoverLayers()
    {
        var consumers = nodes.SelectMany(n => n.Inputs.Where(i => !string.IsNullOrEmpty(i)).Select(i => (Input: i, Node: n)))
            .ToLookup(p => p.Input, p => p.Node, StringComparer.Ordinal);
        var found = new List<(CompiledNode Conv, string Tensor, string Activation)>();
        foreach (var conv in nodes.Where(n => n.Node.OpType == "Conv"))
        {
            string tensor = conv.Output;
            string activation = "none";
            if (consumers[tensor].ToList() is [{ Node.OpType: "BatchNormalization" } norm])
            {
                tensor = norm.Output;
            }

            if (consumers[tensor].ToList() is [var next] && NodeKernels.Activations.Contains(next.Node.OpType))
            {
                tensor = next.Output;
                activation = next.Node.OpType;
            }

            found.Add((conv, tensor, activation));
        }

        var layers = new List<ModelLayer>();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var probe = zeros(1, Metadata.Channels.Count, Metadata.WindowLength);
        IReadOnlyDictionary<string, Tensor> values;
        try
        {
            values = Run(probe);
        }
        catch (InvalidOperationException ex)
        {
            throw new ModelFileException(
                $"Model '{File.Path}' does not run on the window its metadata declares ({Metadata.Channels.Count} channels x {Metadata.WindowLength} steps): {ex.Message}", ex);
        }
        for (int i = 0; i < found.Count; i++)
        {
            var (conv, tensor, activation) = found[i];
            var shape = values[tensor].shape;
            string name = string.IsNullOrEmpty(conv.Node.Name) ? conv.Output : conv.Node.Name;
            layers.Add(new ModelLayer(name, i, (int)shape[1], (int)shape[2], tensor, activation));
        }

        return layers;
    }

    private sealed record CompiledNode(NodeProto Node, string[] Inputs, string Output, Func<Tensor?[], Tensor> Kernel);
}
