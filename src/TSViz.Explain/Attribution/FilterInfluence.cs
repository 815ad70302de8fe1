namespace TSViz.Explain.Attribution;

/// <summary>
/// Filter influence I_j = sum_t |dy/da_j(t)| (TSViz Eq. 15-16) of every filter of every conv layer, raw, min-max
/// scaled within the layer and ranked; one backward pass gives dy/da for every layer at once. The pass of
/// <see cref="SaliencyAndInfluence"/>, keeping its layers (the input gradient comes with it at no extra cost: use
/// that method when both are wanted).
/// </summary>
public sealed class FilterInfluence : IExplanationMethod<ExplainOptions, LayerInfluence[]>
{
    /// <summary>The registry name.</summary>
    public const string MethodName = "influence";

    private readonly Explainer explainer;

    /// <summary>The method on <paramref name="explainer"/>'s model.</summary>
    public FilterInfluence(Explainer explainer)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        this.explainer = explainer;
    }

    /// <inheritdoc/>
    public string Name => MethodName;

    /// <inheritdoc/>
    /// <returns>Per window, every conv layer's influence, input side first.</returns>
    public LayerInfluence[][] Explain(WindowBatch windows, ExplainOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var explained = SaliencyAndInfluence.Run(
            explainer, windows.Values.Span, windows.Count,
            options with { IncludeInfluence = true, IncludeReceivedSaliency = false, TopSteps = 0 }, cancellationToken);
        return [.. explained.Select(e => e.Layers.ToArray())];
    }
}
