using TSViz.Explain.Compiled;
using TSViz.Explain.Attribution;
namespace TSViz.Explain.Robustness;

/// <summary>
/// The smallest eps at which the attack flips the decision, by bisection (<see cref="FlipSearchOptions"/>): a
/// robustness figure per window, where <see cref="Fgsm"/> only reports the score at one eps. Needs a model that
/// declares a decision threshold.
/// </summary>
public sealed class FlipSearch : IExplanationMethod<FlipSearchOptions, FlipSearchResult>
{
    /// <summary>The registry name.</summary>
    public const string MethodName = "flip-search";

    private readonly Explainer explainer;

    /// <summary>The method on <paramref name="explainer"/>'s model.</summary>
    public FlipSearch(Explainer explainer)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        this.explainer = explainer;
    }

    /// <inheritdoc/>
    public string Name => MethodName;

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The model declares no decision threshold.</exception>
    public FlipSearchResult[] Explain(WindowBatch windows, FlipSearchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Run(explainer, windows.Values.Span, windows.Count, options, cancellationToken);
    }

    internal static FlipSearchResult[] Run(Explainer explainer, ReadOnlySpan<float> windows, int count, FlipSearchOptions options, CancellationToken cancellationToken)
        => explainer.Split(windows, count, (part, n) => explainer.Compiled is { } compiled
            ? CompiledExplanations.SmallestFlippingEpsilon(compiled, explainer.Metadata.DecisionThreshold
                ?? throw new InvalidOperationException("The model declares no decision threshold, so no decision can flip."), InputAttributions.ModelSpace(explainer.Metadata, part, n), n, options, cancellationToken)
            : AdversarialAttack.SmallestFlippingEpsilon(explainer.Graph, explainer.Input(part, n), options, cancellationToken), cancellationToken, torch: explainer.Compiled is null);
}
