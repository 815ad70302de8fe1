namespace TSViz.Explain.Attribution;

/// <summary>
/// Input saliency I = |dy/dx| (TSViz Eq. 12-13), min-max scaled over the window (Eq. 14), with each channel's share
/// and the most salient steps. The pass of <see cref="SaliencyAndInfluence"/> with its backward pass stopped at the
/// input: <see cref="WindowExplanation.Layers"/> is empty whatever <see cref="ExplainOptions.IncludeInfluence"/> says.
/// y is the logit of a sigmoid/softmax model by default, whose gradient does not vanish where the probability
/// saturates (Proposition 1).
/// </summary>
public sealed class InputSaliency : IExplanationMethod<ExplainOptions, WindowExplanation>
{
    /// <summary>The registry name.</summary>
    public const string MethodName = "saliency";

    private readonly Explainer explainer;

    /// <summary>The method on <paramref name="explainer"/>'s model.</summary>
    public InputSaliency(Explainer explainer)
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
        return SaliencyAndInfluence.Run(explainer, windows.Values.Span, windows.Count, options with { IncludeInfluence = false }, cancellationToken);
    }
}
