using TSViz.Explain.Compiled;
using TSViz.Explain.Attribution;
namespace TSViz.Explain.Robustness;

/// <summary>
/// The fast gradient sign method (TSViz Eq. 26), x_adv = x + eps sign(dL/dx), then the window rescored: how far one
/// step within eps moves the score. Live windows have no label, so the step pushes against the model's own decision
/// (down for windows decided anomalous, up for the others) along the logit's gradient, which does not saturate.
/// </summary>
public sealed class Fgsm : IExplanationMethod<FgsmOptions, RobustnessResult>
{
    /// <summary>The registry name.</summary>
    public const string MethodName = "fgsm";

    private readonly Explainer explainer;

    /// <summary>The method on <paramref name="explainer"/>'s model.</summary>
    public Fgsm(Explainer explainer)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        this.explainer = explainer;
    }

    /// <inheritdoc/>
    public string Name => MethodName;

    /// <inheritdoc/>
    public RobustnessResult[] Explain(WindowBatch windows, FgsmOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Run(explainer, windows.Values.Span, windows.Count, options.Epsilon, cancellationToken);
    }

    /// <summary>One step of size eps is iterative FGSM with alpha = eps and one step.</summary>
    internal static RobustnessResult[] Run(Explainer explainer, ReadOnlySpan<float> windows, int count, double epsilon, CancellationToken cancellationToken)
        => explainer.Split(windows, count, (part, n) => explainer.Compiled is { } compiled
            ? CompiledExplanations.Iterative(compiled, explainer.Metadata.DecisionThreshold, InputAttributions.ModelSpace(explainer.Metadata, part, n), n, epsilon, epsilon, 1, MethodName, cancellationToken)
            : AdversarialAttack.Iterative(explainer.Graph, explainer.Input(part, n), epsilon, epsilon, 1, MethodName, cancellationToken), cancellationToken, torch: explainer.Compiled is null);
}
