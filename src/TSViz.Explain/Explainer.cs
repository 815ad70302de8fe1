using TSViz.Explain.Attribution;
using TSViz.Explain.Compiled;
using TSViz.Explain.Graph;
using TSViz.Explain.Inversion;
using TSViz.Explain.Onnx;
using TSViz.Explain.Robustness;
using TSViz.Explain.Runtime;
using static TorchSharp.torch;

namespace TSViz.Explain;

/// <summary>
/// A deployed ONNX model loaded for explanation: the file's own weights as a differentiable TorchSharp graph, and the
/// threads a batch is split over. The methods (<see cref="ExplanationMethods"/>: saliency, influence, FGSM, ...) run
/// on it; windows are given as received (count x channels x length, channel-major) and each method applies the
/// model's declared preprocessing itself. Not thread-safe: use one explainer per thread.
/// </summary>
public sealed class Explainer : IDisposable
{
    /// <summary>Fewest windows a parallel worker gets; smaller batches run on one thread.</summary>
    private const int MinWindowsPerWorker = 16;

    private Explainer(OnnxGraph graph, int parallelism, ExplainerKernels kernels)
    {
        Graph = graph;
        Parallelism = parallelism;
        try
        {
            SwitchedOffOneDnn = EnsureBatchesAgree(graph);
            string reason = "the TorchSharp kernels were asked for";
            Compiled = kernels == ExplainerKernels.Auto ? CompiledConvNet.TryCompile(graph, out reason) : null;
            KernelsReason = Compiled is null ? reason : string.Empty;
        }
        catch
        {
            graph.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Which kernels compute saliency, influence, FGSM and the flip search: <see cref="ExplainerKernels.Auto"/> (the
    /// compiled CPU kernels) when the model belongs to the family they cover, else <see cref="ExplainerKernels.TorchSharp"/>.
    /// </summary>
    public ExplainerKernels Kernels => Compiled is null ? ExplainerKernels.TorchSharp : ExplainerKernels.Auto;

    /// <summary>Why the compiled kernels are not used (the node and attribute outside their family), or empty.</summary>
    public string KernelsReason { get; }

    /// <summary>The model compiled into fixed CPU kernels, or null when the general TorchSharp path runs everything.</summary>
    internal CompiledConvNet? Compiled { get; }

    /// <summary>
    /// Loading this model switched libtorch's oneDNN convolutions off for the process: with them, its gradients for a
    /// batch of windows differed from one window at a time (<see cref="TorchRuntime.DisableMkldnn"/>).
    /// </summary>
    public bool SwitchedOffOneDnn { get; }

    /// <summary>The model's graph on its own weights: layers, tensors, and the forward computation the methods differentiate.</summary>
    public OnnxGraph Graph { get; }

    /// <summary>What the model file declares: channels, window length, preprocessing, decision threshold.</summary>
    public ModelMetadata Metadata => Graph.Metadata;

    /// <summary>The model's conv layers, input side first: what filter influence, per-filter saliency and trace name.</summary>
    public IReadOnlyList<ModelLayer> Layers => Graph.Layers;

    /// <summary>Threads a batch is split over (each runs libtorch with one intra-op thread).</summary>
    public int Parallelism { get; }

    /// <summary>
    /// Loads a model file. With <paramref name="parallelism"/> above 1 (default: one per core), batches are split
    /// over that many threads and libtorch's intra-op threads are set to 1 for the process: for these small
    /// convolutions, data parallelism was measured a third faster than libtorch's own threads on 2 cores.
    /// </summary>
    /// <exception cref="ModelFileException">The file is unusable, or uses an operator the explainer does not support.</exception>
    /// <param name="path">The ONNX file.</param>
    /// <param name="parallelism">Threads a batch is split over (default: one per core).</param>
    /// <param name="kernels">TorchSharp forces the general path for every method (the reference the compiled kernels are measured and tested against).</param>
    public static Explainer Load(string path, int? parallelism = null, ExplainerKernels kernels = ExplainerKernels.Auto)
    {
        int workers = Math.Max(1, parallelism ?? Environment.ProcessorCount);
        TorchRuntime.EnsureInitialized(workers > 1 ? 1 : null);
        return new Explainer(OnnxGraph.Load(path), workers, kernels);
    }

    /// <summary>An explainer for a model held in memory (an edited or pruned one); see <see cref="Load"/>.</summary>
    public static Explainer FromFile(OnnxModelFile file, int? parallelism = null, ExplainerKernels kernels = ExplainerKernels.Auto)
    {
        int workers = Math.Max(1, parallelism ?? Environment.ProcessorCount);
        TorchRuntime.EnsureInitialized(workers > 1 ? 1 : null);
        return new Explainer(OnnxGraph.Build(file), workers, kernels);
    }

    /// <summary>Scores windows through the explainer's kernels (for checks against ONNX Runtime).</summary>
    public float[] Score(ReadOnlySpan<float> windows, int count) => Split(windows, count, (part, n) =>
    {
        if (Compiled is { } compiled)
        {
            return CompiledExplanations.Scores(compiled, InputAttributions.ModelSpace(Metadata, part, n), n);
        }

        using var noGrad = no_grad();
        var input = TorchPreprocessing.Apply(Metadata.Preprocessing, Input(part, n));
        return ExplainedQuantity.Score(Graph.Forward(input)).ToFloatArray();
    }, CancellationToken.None, torch: Compiled is null);

    /// <summary>
    /// The windows as the model sees them (count x channels x length, channel-major): the model's declared
    /// preprocessing applied on the CPU, exactly as the scoring path applies it.
    /// </summary>
    public float[] ToModelSpace(ReadOnlySpan<float> windows, int count)
    {
        CheckSize(windows, count);
        return InputAttributions.ModelSpace(Metadata, windows.ToArray(), count);
    }

    /// <summary>
    /// The quantity <paramref name="target"/> selects (the logit, the reported score, ...) for windows already in the
    /// model's input space (<see cref="ToModelSpace"/>): what the deletion and insertion tests measure.
    /// </summary>
    public double[] EvaluateModelSpace(ReadOnlySpan<float> modelInput, int count, GradientTarget target = GradientTarget.Auto, double temperature = 1.5, CancellationToken cancellationToken = default)
    {
        var options = new ExplainOptions { Target = target, Temperature = temperature };
        return Split(modelInput, count, (part, n) => Compiled is { } compiled
            ? CompiledExplanations.Evaluate(compiled, part, n, target, temperature)
            : InputAttributions.Evaluate(Graph, part, n, options), cancellationToken, torch: Compiled is null);
    }

    // The calls below are shorthands for the method classes (one shape per method: IExplanationMethod), kept for
    // callers that hold windows as a span; each runs exactly its method's code.

    /// <summary>Input saliency and every layer's filter influence in one backward pass: <see cref="SaliencyAndInfluence"/>.</summary>
    public WindowExplanation[] Explain(ReadOnlySpan<float> windows, int count, ExplainOptions? options = null)
        => SaliencyAndInfluence.Run(this, windows, count, options ?? new ExplainOptions(), CancellationToken.None);

    /// <summary>
    /// Per-filter input saliency of the chosen filters (all when <paramref name="filters"/> is null), result
    /// [window][map]: <see cref="PerFilterSaliency"/>.
    /// </summary>
    public FilterSaliencyMap[][] FilterSaliency(ReadOnlySpan<float> windows, int count, IReadOnlyDictionary<string, int[]>? filters = null)
        => PerFilterSaliency.Run(this, windows, count, filters, CancellationToken.None);

    /// <summary>The reference implementation's way, for comparison only: one backward pass per window and filter, on one thread.</summary>
    public FilterSaliencyMap[][] FilterSaliencyOnePassPerFilter(ReadOnlySpan<float> windows, int count)
    {
        using var scope = NewDisposeScope();
        return PerFilterSaliencyKernel.OnePassPerFilter(Graph, Input(windows, count));
    }

    /// <summary>Recursive highlighting of one window's activation: <see cref="ActivationTrace"/>.</summary>
    public ActivationTraceResult Trace(ReadOnlySpan<float> window, string layer, int filter, int step)
        => ActivationTrace.Run(this, window, new TraceOptions { Layer = layer, Filter = filter, Step = step }, CancellationToken.None);

    /// <summary>FGSM (Eq. 26) at <paramref name="epsilon"/>: <see cref="Robustness.Fgsm"/>.</summary>
    public RobustnessResult[] Fgsm(ReadOnlySpan<float> windows, int count, double epsilon)
        => Robustness.Fgsm.Run(this, windows, count, epsilon, CancellationToken.None);

    /// <summary>Iterative FGSM (Eq. 27): <see cref="Robustness.IterativeFgsm"/>.</summary>
    public RobustnessResult[] IterativeFgsm(ReadOnlySpan<float> windows, int count, IterativeFgsmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Robustness.IterativeFgsm.Run(this, windows, count, options, CancellationToken.None);
    }

    /// <summary>The smallest eps (within the tolerance) at which the attack changes the decision: <see cref="FlipSearch"/>.</summary>
    public FlipSearchResult[] SmallestFlippingEpsilon(ReadOnlySpan<float> windows, int count, FlipSearchOptions? options = null)
        => FlipSearch.Run(this, windows, count, options ?? new FlipSearchOptions(), CancellationToken.None);

    /// <summary>Inverse optimisation (Eq. 24-25): <see cref="InverseOptimization"/>.</summary>
    public InverseResult[] Invert(InverseOptions options) => new InverseOptimization(this).Explain(options);

    /// <summary>
    /// Every method explains a batch in one pass, so a window's explanation must not depend on the windows beside it.
    /// It did on some small convolution shapes (libtorch's oneDNN backward): the input gradient of a few seeded windows
    /// in one batch is compared with each alone, and on a disagreement oneDNN is switched off and the check repeated.
    /// </summary>
    /// <returns>Whether oneDNN was switched off for this model.</returns>
    /// <exception cref="ModelFileException">The gradients still disagree without oneDNN.</exception>
    private static bool EnsureBatchesAgree(OnnxGraph graph)
    {
        if (BatchedGradientsAgree(graph, out _))
        {
            return false;
        }

        bool switched = TorchRuntime.DisableMkldnn();
        if (BatchedGradientsAgree(graph, out double difference))
        {
            return switched;
        }

        throw new ModelFileException(
            $"the model's input gradients for a batch of windows differ from one window at a time (largest relative difference {difference:G3}), even with libtorch's oneDNN off: its explanations cannot be computed in batches");
    }

    private static bool BatchedGradientsAgree(OnnxGraph graph, out double difference)
    {
        const int Windows = 5;
        var metadata = graph.Metadata;
        int channels = metadata.Channels.Count, length = metadata.WindowLength, size = channels * length;
        var random = new Random(7);
        var windows = new float[Windows * size];
        for (int i = 0; i < windows.Length; i++)
        {
            windows[i] = (float)((random.NextDouble() * 4) - 2);
        }

        using var scope = NewDisposeScope();
        float[] Gradient(float[] input, int count)
        {
            var x = tensor(input, [count, channels, length]).requires_grad_(true);
            var y = ExplainedQuantity.Select(graph, graph.Run(x), GradientTarget.Auto, 1.5).Value;
            return autograd.grad([y.sum()], [x])[0].ToFloatArray();
        }

        var batched = Gradient(windows, Windows);
        difference = 0;
        for (int w = 0; w < Windows; w++)
        {
            var alone = Gradient(windows.AsSpan(w * size, size).ToArray(), 1);
            double scale = alone.Max(Math.Abs) + 1e-12;
            for (int i = 0; i < size; i++)
            {
                difference = Math.Max(difference, Math.Abs(alone[i] - batched[(w * size) + i]) / scale);
            }
        }

        return difference <= 1e-3;
    }

    /// <summary>Frees the graph's weights and the compiled kernels' buffers (native memory).</summary>
    public void Dispose()
    {
        Compiled?.Dispose();
        Graph.Dispose();
    }

    /// <summary>
    /// Runs <paramref name="work"/> on contiguous parts of the batch, one per worker thread, each inside its own
    /// dispose scope (unless <paramref name="torch"/> is false: work on the compiled kernels creates no tensors), and
    /// concatenates the results in window order.
    /// </summary>
    internal T[] Split<T>(ReadOnlySpan<float> windows, int count, Func<float[], int, T[]> work, CancellationToken cancellationToken, bool torch = true)
    {
        CheckSize(windows, count);
        cancellationToken.ThrowIfCancellationRequested();
        int size = Metadata.Channels.Count * Metadata.WindowLength;
        int workers = Math.Clamp(count / MinWindowsPerWorker, 1, Parallelism);
        if (workers == 1)
        {
            using var scope = torch ? NewDisposeScope() : null;
            return work(windows.ToArray(), count);
        }

        var all = windows.ToArray();
        var parts = new T[workers][];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken }, w =>
        {
            int start = (int)((long)count * w / workers);
            int end = (int)((long)count * (w + 1) / workers);
            using var scope = torch ? NewDisposeScope() : null;
            parts[w] = work(all.AsSpan(start * size, (end - start) * size).ToArray(), end - start);
        });
        return parts.SelectMany(p => p).ToArray();
    }

    /// <summary>The windows as a [count, channels, length] tensor (in the caller's dispose scope).</summary>
    internal Tensor Input(float[] windows, int count)
        => tensor(windows, [count, Metadata.Channels.Count, Metadata.WindowLength]);

    /// <summary>The windows as a [count, channels, length] tensor, after checking their size.</summary>
    internal Tensor Input(ReadOnlySpan<float> windows, int count)
    {
        CheckSize(windows, count);
        return tensor(windows.ToArray(), [count, Metadata.Channels.Count, Metadata.WindowLength]);
    }

    internal void CheckSize(ReadOnlySpan<float> windows, int count)
    {
        int channels = Metadata.Channels.Count;
        int length = Metadata.WindowLength;
        if (count < 1 || windows.Length != count * channels * length)
        {
            throw new ArgumentException(
                $"Expected {count} windows of {channels} channels x {length} steps ({count * channels * length} values), got {windows.Length} values.",
                nameof(windows));
        }
    }
}

/// <summary>Which kernels an <see cref="Explainer"/> runs its gradient methods on.</summary>
public enum ExplainerKernels
{
    /// <summary>The compiled CPU kernels when the model is a chain of Conv1d / ReLU or LeakyReLU / MaxPool blocks, Flatten, one-output Gemm and Sigmoid; TorchSharp otherwise.</summary>
    Auto,

    /// <summary>The general TorchSharp graph for every method.</summary>
    TorchSharp,
}
