using TSViz.Explain.Attribution;
using TSViz.Explain.Graph;
using TSViz.Explain.Inversion;
using TSViz.Explain.Onnx;
using TSViz.Explain.Robustness;
using static TorchSharp.torch;

namespace TSViz.Explain;

/// <summary>
/// Every per-prediction explanation of the TSViz paper for a deployed ONNX model, computed on the file's own
/// weights in TorchSharp. Methods take a batch of windows as received (count x channels x length, channel-major)
/// and apply the model's declared preprocessing themselves. Not thread-safe: use one explainer per thread.
/// </summary>
public sealed class Explainer : IDisposable
{
    private Explainer(OnnxGraph graph) => Graph = graph;

    public OnnxGraph Graph { get; }

    public ModelMetadata Metadata => Graph.Metadata;

    public IReadOnlyList<ModelLayer> Layers => Graph.Layers;

    /// <summary>Loads a model file.</summary>
    /// <exception cref="ModelFileException">The file is unusable, or uses an operator the explainer does not support.</exception>
    public static Explainer Load(string path) => new(OnnxGraph.Load(path));

    /// <summary>Scores windows through the TorchSharp graph (for checks against ONNX Runtime).</summary>
    public float[] Score(ReadOnlySpan<float> windows, int count)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = TorchPreprocessing.Apply(Metadata.Preprocessing, Input(windows, count));
        return ExplainedQuantity.Score(Graph.Forward(input)).data<float>().ToArray();
    }

    /// <summary>Input saliency (Eq. 12-14), channel contributions, top steps and every layer's filter influence (Eq. 15-16), in one backward pass.</summary>
    public WindowExplanation[] Explain(ReadOnlySpan<float> windows, int count, ExplainOptions? options = null)
    {
        using var scope = NewDisposeScope();
        return SaliencyAndInfluence.Compute(Graph, Input(windows, count), options ?? new ExplainOptions());
    }

    /// <summary>
    /// Per-filter input saliency (Eq. 11-13) of the chosen filters (all when <paramref name="filters"/> is null),
    /// batched: one backward pass per layer for a whole chunk of windows. Result [window][map].
    /// </summary>
    public FilterSaliencyMap[][] FilterSaliency(ReadOnlySpan<float> windows, int count, IReadOnlyDictionary<string, int[]>? filters = null)
    {
        using var scope = NewDisposeScope();
        return PerFilterSaliency.Batched(Graph, Input(windows, count), filters);
    }

    /// <summary>The reference implementation's way, for comparison only: one backward pass per window and filter.</summary>
    public FilterSaliencyMap[][] FilterSaliencyOnePassPerFilter(ReadOnlySpan<float> windows, int count)
    {
        using var scope = NewDisposeScope();
        return PerFilterSaliency.OnePassPerFilter(Graph, Input(windows, count));
    }

    /// <summary>FGSM (Eq. 26) at <paramref name="epsilon"/>: one step, then the window rescored.</summary>
    public RobustnessResult[] Fgsm(ReadOnlySpan<float> windows, int count, double epsilon)
    {
        using var scope = NewDisposeScope();
        return AdversarialAttack.Iterative(Graph, Input(windows, count), epsilon, epsilon, 1, "fgsm");
    }

    /// <summary>Iterative FGSM (Eq. 27); the paper's setting is alpha 1e-4, eps 0.1, 1000 steps.</summary>
    public RobustnessResult[] IterativeFgsm(ReadOnlySpan<float> windows, int count, IterativeFgsmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var scope = NewDisposeScope();
        return AdversarialAttack.Iterative(Graph, Input(windows, count), options.Epsilon, options.Alpha, options.Steps, "iterative-fgsm");
    }

    /// <summary>The smallest eps (within the tolerance) at which the flip-search attack changes the decision.</summary>
    public FlipSearchResult[] SmallestFlippingEpsilon(ReadOnlySpan<float> windows, int count, FlipSearchOptions? options = null)
    {
        using var scope = NewDisposeScope();
        return AdversarialAttack.SmallestFlippingEpsilon(Graph, Input(windows, count), options ?? new FlipSearchOptions());
    }

    /// <summary>Inverse optimisation (Eq. 24-25): from seeded random starts, the inputs the model maps to the target.</summary>
    public InverseResult[] Invert(InverseOptions options)
    {
        using var scope = NewDisposeScope();
        return InverseOptimization.Run(Graph, options);
    }

    public void Dispose() => Graph.Dispose();

    private Tensor Input(ReadOnlySpan<float> windows, int count)
    {
        int channels = Metadata.Channels.Count;
        int length = Metadata.WindowLength;
        if (count < 1 || windows.Length != count * channels * length)
        {
            throw new ArgumentException(
                $"Expected {count} windows of {channels} channels x {length} steps ({count * channels * length} values), got {windows.Length} values.",
                nameof(windows));
        }

        return tensor(windows.ToArray(), [count, channels, length]);
    }
}
