using TSViz.Explain.Attribution;
using TSViz.Explain.Graph;
using TSViz.Explain.Inversion;
using TSViz.Explain.Onnx;
using TSViz.Explain.Robustness;
using TSViz.Explain.Runtime;
using static TorchSharp.torch;

namespace TSViz.Explain;

/// <summary>
/// Every per-prediction explanation of the TSViz paper for a deployed ONNX model, computed on the file's own
/// weights in TorchSharp. Methods take a batch of windows as received (count x channels x length, channel-major)
/// and apply the model's declared preprocessing themselves. Not thread-safe: use one explainer per thread.
/// </summary>
public sealed class Explainer : IDisposable
{
    /// <summary>Fewest windows a parallel worker gets; smaller batches run on one thread.</summary>
    private const int MinWindowsPerWorker = 16;

    private Explainer(OnnxGraph graph, int parallelism)
    {
        Graph = graph;
        Parallelism = parallelism;
    }

    public OnnxGraph Graph { get; }

    public ModelMetadata Metadata => Graph.Metadata;

    public IReadOnlyList<ModelLayer> Layers => Graph.Layers;

    /// <summary>Threads a batch is split over (each runs libtorch with one intra-op thread).</summary>
    public int Parallelism { get; }

    /// <summary>
    /// Loads a model file. With <paramref name="parallelism"/> above 1 (default: one per core), batches are split
    /// over that many threads and libtorch's intra-op threads are set to 1 for the process: for these small
    /// convolutions, data parallelism was measured a third faster than libtorch's own threads on 2 cores.
    /// </summary>
    /// <exception cref="ModelFileException">The file is unusable, or uses an operator the explainer does not support.</exception>
    public static Explainer Load(string path, int? parallelism = null)
    {
        int workers = Math.Max(1, parallelism ?? Environment.ProcessorCount);
        TorchRuntime.EnsureInitialized(workers > 1 ? 1 : null);
        return new Explainer(OnnxGraph.Load(path), workers);
    }

    /// <summary>An explainer for a model held in memory (an edited or pruned one); see <see cref="Load"/>.</summary>
    public static Explainer FromFile(OnnxModelFile file, int? parallelism = null)
    {
        int workers = Math.Max(1, parallelism ?? Environment.ProcessorCount);
        TorchRuntime.EnsureInitialized(workers > 1 ? 1 : null);
        return new Explainer(OnnxGraph.Build(file), workers);
    }

    /// <summary>Scores windows through the TorchSharp graph (for checks against ONNX Runtime).</summary>
    public float[] Score(ReadOnlySpan<float> windows, int count) => Split(windows, count, (part, n) =>
    {
        using var noGrad = no_grad();
        var input = TorchPreprocessing.Apply(Metadata.Preprocessing, Input(part, n));
        return ExplainedQuantity.Score(Graph.Forward(input)).ToFloatArray();
    });

    /// <summary>Input saliency (Eq. 12-14), channel contributions, top steps and every layer's filter influence (Eq. 15-16), in one backward pass.</summary>
    public WindowExplanation[] Explain(ReadOnlySpan<float> windows, int count, ExplainOptions? options = null)
    {
        var effective = options ?? new ExplainOptions();
        return Split(windows, count, (part, n) => SaliencyAndInfluence.Compute(Graph, part, n, effective));
    }

    /// <summary>
    /// Per-filter input saliency (Eq. 11-13) of the chosen filters (all when <paramref name="filters"/> is null),
    /// batched: one backward pass per layer for a whole chunk of windows. Result [window][map].
    /// </summary>
    public FilterSaliencyMap[][] FilterSaliency(ReadOnlySpan<float> windows, int count, IReadOnlyDictionary<string, int[]>? filters = null)
        => Split(windows, count, (part, n) => PerFilterSaliency.Batched(Graph, Input(part, n), filters));

    /// <summary>The reference implementation's way, for comparison only: one backward pass per window and filter, on one thread.</summary>
    public FilterSaliencyMap[][] FilterSaliencyOnePassPerFilter(ReadOnlySpan<float> windows, int count)
    {
        using var scope = NewDisposeScope();
        return PerFilterSaliency.OnePassPerFilter(Graph, Input(windows, count));
    }

    /// <summary>
    /// Recursive highlighting of one window: the points of every lower layer and of the model input that produced
    /// activation <paramref name="step"/> of filter <paramref name="filter"/> in <paramref name="layer"/>
    /// (through max-pooling only the maxima).
    /// </summary>
    public ActivationTraceResult Trace(ReadOnlySpan<float> window, string layer, int filter, int step)
    {
        using var scope = NewDisposeScope();
        return ActivationTrace.Run(Graph, Input(window, 1), layer, filter, step);
    }

    /// <summary>FGSM (Eq. 26) at <paramref name="epsilon"/>: one step, then the window rescored.</summary>
    public RobustnessResult[] Fgsm(ReadOnlySpan<float> windows, int count, double epsilon)
        => Split(windows, count, (part, n) => AdversarialAttack.Iterative(Graph, Input(part, n), epsilon, epsilon, 1, "fgsm"));

    /// <summary>Iterative FGSM (Eq. 27); the paper's setting is alpha 1e-4, eps 0.1, 1000 steps.</summary>
    public RobustnessResult[] IterativeFgsm(ReadOnlySpan<float> windows, int count, IterativeFgsmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Split(windows, count, (part, n) => AdversarialAttack.Iterative(Graph, Input(part, n), options.Epsilon, options.Alpha, options.Steps, "iterative-fgsm"));
    }

    /// <summary>The smallest eps (within the tolerance) at which the flip-search attack changes the decision.</summary>
    public FlipSearchResult[] SmallestFlippingEpsilon(ReadOnlySpan<float> windows, int count, FlipSearchOptions? options = null)
    {
        var effective = options ?? new FlipSearchOptions();
        return Split(windows, count, (part, n) => AdversarialAttack.SmallestFlippingEpsilon(Graph, Input(part, n), effective));
    }

    /// <summary>Inverse optimisation (Eq. 24-25): from seeded random starts, the inputs the model maps to the target.</summary>
    public InverseResult[] Invert(InverseOptions options)
    {
        using var scope = NewDisposeScope();
        return InverseOptimization.Run(Graph, options);
    }

    public void Dispose() => Graph.Dispose();

    /// <summary>
    /// Runs <paramref name="work"/> on contiguous parts of the batch, one per worker thread, each inside its own
    /// dispose scope, and concatenates the results in window order.
    /// </summary>
    private T[] Split<T>(ReadOnlySpan<float> windows, int count, Func<float[], int, T[]> work)
    {
        CheckSize(windows, count);
        int size = Metadata.Channels.Count * Metadata.WindowLength;
        int workers = Math.Clamp(count / MinWindowsPerWorker, 1, Parallelism);
        if (workers == 1)
        {
            using var scope = NewDisposeScope();
            return work(windows.ToArray(), count);
        }

        var all = windows.ToArray();
        var parts = new T[workers][];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            int start = (int)((long)count * w / workers);
            int end = (int)((long)count * (w + 1) / workers);
            using var scope = NewDisposeScope();
            parts[w] = work(all.AsSpan(start * size, (end - start) * size).ToArray(), end - start);
        });
        return parts.SelectMany(p => p).ToArray();
    }

    private Tensor Input(float[] windows, int count)
        => tensor(windows, [count, Metadata.Channels.Count, Metadata.WindowLength]);

    private Tensor Input(ReadOnlySpan<float> windows, int count)
    {
        CheckSize(windows, count);
        return tensor(windows.ToArray(), [count, Metadata.Channels.Count, Metadata.WindowLength]);
    }

    private void CheckSize(ReadOnlySpan<float> windows, int count)
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
