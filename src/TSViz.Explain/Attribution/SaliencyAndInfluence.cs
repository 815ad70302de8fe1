namespace TSViz.Explain.Attribution;

/// <summary>
/// Input saliency I = |dy/dx| (TSViz Eq. 12-13, scaled by Eq. 14), channel contributions, the top steps and every
/// conv layer's filter influence I_j = sum_t |dy/da_j(t)| (Eq. 15-16), all from one forward and one backward pass per
/// batch part: the explained quantity is summed over the windows, and since no operator mixes windows, each window's
/// gradient is its own. The live path's explanation; <see cref="InputSaliency"/> and <see cref="FilterInfluence"/>
/// are the same pass with one half of the answer.
/// </summary>
public sealed class SaliencyAndInfluence : IExplanationMethod<ExplainOptions, WindowExplanation>
{
    /// <summary>The registry name.</summary>
    public const string MethodName = "saliency-influence";

    private readonly Explainer explainer;

    /// <summary>The method on <paramref name="explainer"/>'s model.</summary>
    public SaliencyAndInfluence(Explainer explainer)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        this.explainer = explainer;
    }

    /// <inheritdoc/>
    public string Name => MethodName;

    /// <inheritdoc/>
    public WindowExplanation[] Explain(WindowBatch windows, ExplainOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Run(explainer, windows.Values.Span, windows.Count, options, cancellationToken);
    }

    /// <summary>The batch split over the explainer's threads, each part one forward and one backward pass.</summary>
    internal static WindowExplanation[] Run(Explainer explainer, ReadOnlySpan<float> windows, int count, ExplainOptions options, CancellationToken cancellationToken)
        => explainer.Split(windows, count, (part, n) => SaliencyAndInfluenceKernel.Compute(explainer, part, n, options), cancellationToken, torch: explainer.Compiled is null);
}
