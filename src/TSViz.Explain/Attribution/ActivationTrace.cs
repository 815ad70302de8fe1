using static TorchSharp.torch;

namespace TSViz.Explain.Attribution;

/// <summary>The activation <see cref="ActivationTrace"/> starts from: filter <see cref="Filter"/> of <see cref="Layer"/> at step <see cref="Step"/>.</summary>
public sealed record TraceOptions
{
    /// <summary>The conv layer's name (one of <see cref="Explainer.Layers"/>).</summary>
    public required string Layer { get; init; }

    /// <summary>The filter within the layer, 0-based.</summary>
    public int Filter { get; init; }

    /// <summary>The step of the filter's activation, 0 to the layer's output length - 1.</summary>
    public int Step { get; init; }
}

/// <summary>
/// Recursive highlighting (TSViz workshop paper, section 4): from one activation a_j(t) of a conv layer, the points of
/// every lower layer and of the model input that produced it, following max-pooling only along the maxima. A point
/// counts when d a_j(t) / d point is not zero: one backward pass per window on the deployed weights, so the receptive
/// field can never drift from the graph.
/// </summary>
public sealed class ActivationTrace : IExplanationMethod<TraceOptions, ActivationTraceResult>
{
    /// <summary>The registry name.</summary>
    public const string MethodName = "trace";

    private readonly Explainer explainer;

    /// <summary>The method on <paramref name="explainer"/>'s model.</summary>
    public ActivationTrace(Explainer explainer)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        this.explainer = explainer;
    }

    /// <inheritdoc/>
    public string Name => MethodName;

    /// <inheritdoc/>
    /// <remarks>Each window is traced from the same activation; windows run one after another on the calling thread.</remarks>
    public ActivationTraceResult[] Explain(WindowBatch windows, TraceOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var values = windows.Values.Span;
        explainer.CheckSize(values, windows.Count);
        int size = values.Length / windows.Count;
        var results = new ActivationTraceResult[windows.Count];
        for (int w = 0; w < windows.Count; w++)
        {
            results[w] = Run(explainer, values.Slice(w * size, size), options, cancellationToken);
        }

        return results;
    }

    internal static ActivationTraceResult Run(Explainer explainer, ReadOnlySpan<float> window, TraceOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = NewDisposeScope();
        return ActivationTraceKernel.Run(explainer.Graph, explainer.Input(window, 1), options.Layer, options.Filter, options.Step);
    }
}
