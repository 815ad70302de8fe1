using TSViz.Explain.Compiled;
using TSViz.Explain.Attribution;
namespace TSViz.Explain.Robustness;

/// <summary>
/// Iterative FGSM (TSViz Eq. 27), x_{t+1} = Clip_{x,eps}(x_t + alpha sign(dL/dx_t)), against the model's own decision
/// as <see cref="Fgsm"/>. The paper's setting is <see cref="IterativeFgsmOptions.Paper"/>.
/// </summary>
public sealed class IterativeFgsm : IExplanationMethod<IterativeFgsmOptions, RobustnessResult>
{
    /// <summary>The registry name.</summary>
    public const string MethodName = "iterative-fgsm";

    private readonly Explainer explainer;

    /// <summary>The method on <paramref name="explainer"/>'s model.</summary>
    public IterativeFgsm(Explainer explainer)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        this.explainer = explainer;
    }

    /// <inheritdoc/>
    public string Name => MethodName;

    /// <inheritdoc/>
    public RobustnessResult[] Explain(WindowBatch windows, IterativeFgsmOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Run(explainer, windows.Values.Span, windows.Count, options, cancellationToken);
    }

    internal static RobustnessResult[] Run(Explainer explainer, ReadOnlySpan<float> windows, int count, IterativeFgsmOptions options, CancellationToken cancellationToken)
        => explainer.Split(windows, count, (part, n) => explainer.Compiled is { } compiled
            ? CompiledExplanations.Iterative(compiled, explainer.Metadata.DecisionThreshold, InputAttributions.ModelSpace(explainer.Metadata, part, n), n, options.Epsilon, options.Alpha, options.Steps, MethodName, cancellationToken)
            : AdversarialAttack.Iterative(explainer.Graph, explainer.Input(part, n), options.Epsilon, options.Alpha, options.Steps, MethodName, cancellationToken), cancellationToken, torch: explainer.Compiled is null);
}
