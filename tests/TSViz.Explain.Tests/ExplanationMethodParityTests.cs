using System.Text.Json;
using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using TSViz.Explain.Inversion;
using TSViz.Explain.Robustness;
using TSViz.Tests.Shared;
using static TorchSharp.torch;

namespace TSViz.Explain.Tests;

/// <summary>
/// Each method object gives, on windows of the shipped anomaly model, exactly what the code it replaced gave: the
/// explainer's former calls ran the same kernels on the whole batch when one thread takes it (parallelism 1), each in
/// one dispose scope. Results are compared through their JSON, so every array is compared element by element, exactly.
/// Runs in <see cref="ExplainerTests"/>' collection, alone: an exact comparison needs nobody changing libtorch's thread
/// count between the two computations.
/// </summary>
[Collection(nameof(ExplainerTests))]
public sealed class ExplanationMethodParityTests : IDisposable
{
    /// <summary>Windows of the reference recipe (each with chance 1/6 anomalous), as the monitor receives them.</summary>
    private const int Windows = 8;

    // The TorchSharp kernels: these tests compare the method objects with the kernels they call, exactly. The compiled
    // kernels are compared with these within 1e-5 (CompiledKernelTests).
    private readonly Explainer explainer = Explainer.Load(RepositoryPaths.AnomalyModel, parallelism: 1, kernels: ExplainerKernels.TorchSharp);
    private readonly float[] values = new AnomalyDatasetGenerator(3).Generate(Windows).Windows.Values;

    private WindowBatch Batch => new(values, Windows);

    public void Dispose() => explainer.Dispose();

    [Fact]
    public void SaliencyAndInfluence_IsTheFusedPassItReplaced()
    {
        var options = new ExplainOptions { IncludeActivations = true };
        var expected = Scoped(() => SaliencyAndInfluenceKernel.Compute(explainer, values, Windows, options));
        AssertSame(expected, new SaliencyAndInfluence(explainer).Explain(Batch, options));
        AssertSame(expected, explainer.Explain(values, Windows, options));
    }

    [Fact]
    public void InputSaliency_IsTheFusedPassWithoutItsLayers()
    {
        var fused = Scoped(() => SaliencyAndInfluenceKernel.Compute(explainer, values, Windows, new ExplainOptions()));
        var saliency = new InputSaliency(explainer).Explain(Batch, new ExplainOptions());
        AssertSame(fused.Select(e => e with { Layers = [] }).ToArray(), saliency);
    }

    [Fact]
    public void FilterInfluence_IsTheFusedPassesLayers()
    {
        var fused = Scoped(() => SaliencyAndInfluenceKernel.Compute(explainer, values, Windows, new ExplainOptions()));
        AssertSame(fused.Select(e => e.Layers.ToArray()).ToArray(), new FilterInfluence(explainer).Explain(Batch, new ExplainOptions()));
    }

    [Fact]
    public void PerFilterSaliency_IsTheBatchedPassItReplaced()
    {
        var chosen = new Dictionary<string, int[]> { ["conv1"] = [0, 5], ["conv3"] = [63] };
        var expected = Scoped(() => PerFilterSaliencyKernel.Batched(explainer.Graph, Input(values, Windows), chosen, CancellationToken.None));
        AssertSame(expected, new PerFilterSaliency(explainer).Explain(Batch, new FilterSaliencyOptions { Filters = chosen }));
        var all = Scoped(() => PerFilterSaliencyKernel.Batched(explainer.Graph, Input(values, 1), null, CancellationToken.None));
        AssertSame(all, new PerFilterSaliency(explainer).Explain(new WindowBatch(values.AsMemory(0, Size), 1), new FilterSaliencyOptions()));
    }

    [Fact]
    public void ActivationTrace_IsTheTraceItReplaced_ForEveryWindow()
    {
        var options = new TraceOptions { Layer = "conv2", Filter = 7, Step = 5 };
        var expected = Enumerable.Range(0, Windows).Select(w => Scoped(() =>
            ActivationTraceKernel.Run(explainer.Graph, Input(values.AsSpan(w * Size, Size).ToArray(), 1), options.Layer, options.Filter, options.Step))).ToArray();
        AssertSame(expected, new ActivationTrace(explainer).Explain(Batch, options));
    }

    [Fact]
    public void Fgsm_IsOneIterativeStepOfSizeEpsilon()
    {
        var expected = Scoped(() => AdversarialAttack.Iterative(explainer.Graph, Input(values, Windows), 0.1, 0.1, 1, "fgsm", CancellationToken.None));
        AssertSame(expected, new Fgsm(explainer).Explain(Batch, new FgsmOptions { Epsilon = 0.1 }));
    }

    [Fact]
    public void IterativeFgsm_IsTheAttackItReplaced()
    {
        var options = new IterativeFgsmOptions { Epsilon = 0.2, Alpha = 0.03, Steps = 12 };
        var expected = Scoped(() => AdversarialAttack.Iterative(explainer.Graph, Input(values, Windows), 0.2, 0.03, 12, "iterative-fgsm", CancellationToken.None));
        AssertSame(expected, new IterativeFgsm(explainer).Explain(Batch, options));
    }

    [Fact]
    public void FlipSearch_IsTheBisectionItReplaced()
    {
        var options = new FlipSearchOptions { EpsilonMax = 0.8 };
        var expected = Scoped(() => AdversarialAttack.SmallestFlippingEpsilon(explainer.Graph, Input(values, Windows), options, CancellationToken.None));
        AssertSame(expected, new FlipSearch(explainer).Explain(Batch, options));
    }

    [Fact]
    public void InverseOptimization_IsTheOptimisationItReplaced()
    {
        var options = new InverseOptions { Steps = 40, Starts = 2, Target = 0.9 };
        var expected = Scoped(() => InverseOptimizationKernel.Run(explainer.Graph, options, CancellationToken.None));
        AssertSame(expected, new InverseOptimization(explainer).Explain(options));
    }

    [Fact]
    public void Explain_CancelledToken_StopsBeforeComputing()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new SaliencyAndInfluence(explainer).Explain(Batch, new ExplainOptions(), cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => new IterativeFgsm(explainer).Explain(Batch, IterativeFgsmOptions.Paper, cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => new InverseOptimization(explainer).Explain(new InverseOptions(), cancelled.Token));
    }

    [Fact]
    public void Explain_PartialWindow_IsRefusedWithTheExpectedSize()
    {
        var error = Assert.Throws<ArgumentException>(() => new Fgsm(explainer).Explain(new WindowBatch(values.AsMemory(0, Size - 1), 1), new FgsmOptions()));
        Assert.Contains($"({Size} values)", error.Message, StringComparison.Ordinal);
    }

    private int Size => explainer.Metadata.Channels.Count * explainer.Metadata.WindowLength;

    private Tensor Input(float[] windows, int count)
        => tensor(windows.AsSpan(0, count * Size).ToArray(), [count, explainer.Metadata.Channels.Count, explainer.Metadata.WindowLength]);

    private static T Scoped<T>(Func<T> work)
    {
        using var scope = NewDisposeScope();
        return work();
    }

    private static void AssertSame<T>(T expected, T actual)
        => Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(actual));
}
