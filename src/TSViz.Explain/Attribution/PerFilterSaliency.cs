using TSViz.Explain.Compiled;
namespace TSViz.Explain.Attribution;

/// <summary>Which filters <see cref="PerFilterSaliency"/> computes.</summary>
public sealed record FilterSaliencyOptions
{
    /// <summary>Per layer name, the filter indices wanted; layers not named are skipped. Null: every filter of every layer.</summary>
    public IReadOnlyDictionary<string, int[]>? Filters { get; init; }
}

/// <summary>
/// Per-filter input saliency |d(sum_t a_j(t))/dx| (TSViz Eq. 11-13, the filter's summed activation in place of the
/// output), with respect to the model input. Batched: each window is replicated once per chosen filter and the graph
/// runs only up to the filter's layer; since replica j keeps filter j's sum, one backward pass per layer and chunk of
/// windows delivers every filter's gradient at once (the reference way, one pass per filter, is
/// <see cref="Explainer.FilterSaliencyOnePassPerFilter"/>).
/// </summary>
public sealed class PerFilterSaliency : IExplanationMethod<FilterSaliencyOptions, FilterSaliencyMap[]>
{
    /// <summary>The registry name.</summary>
    public const string MethodName = "filter-saliency";

    private readonly Explainer explainer;

    /// <summary>The method on <paramref name="explainer"/>'s model.</summary>
    public PerFilterSaliency(Explainer explainer)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        this.explainer = explainer;
    }

    /// <inheritdoc/>
    public string Name => MethodName;

    /// <inheritdoc/>
    /// <returns>Per window, one map per chosen filter, by layer (input side first) then in the order given.</returns>
    public FilterSaliencyMap[][] Explain(WindowBatch windows, FilterSaliencyOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Run(explainer, windows.Values.Span, windows.Count, options.Filters, cancellationToken);
    }

    internal static FilterSaliencyMap[][] Run(Explainer explainer, ReadOnlySpan<float> windows, int count, IReadOnlyDictionary<string, int[]>? filters, CancellationToken cancellationToken)
        => explainer.Split(windows, count, (part, n) => explainer.Compiled is { } compiled
            ? CompiledExplanations.FilterSaliency(compiled, explainer.Layers, InputAttributions.ModelSpace(explainer.Metadata, part, n), n, filters, cancellationToken)
            : PerFilterSaliencyKernel.Batched(explainer.Graph, explainer.Input(part, n), filters, cancellationToken), cancellationToken, torch: explainer.Compiled is null);
}
