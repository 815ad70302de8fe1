using TSViz.Explain.Attribution;
using TSViz.Explain.Compiled;
using TSViz.Explain.Graph;
using TSViz.Explain.Robustness;

namespace TSViz.Explain;

/// <summary>What the live path attaches to every window: its saliency and filter influence, and one FGSM step's rescore.</summary>
/// <param name="Explanation">Saliency, channel contributions, every layer's influence and ranking (the top filters).</param>
/// <param name="Fgsm">FGSM at the pass's eps: how far one step moves the score.</param>
public sealed record LiveWindowExplanation(WindowExplanation Explanation, RobustnessResult Fgsm);

/// <summary>
/// The live explanation of a window in one fused pass: one forward and one backward pass give the saliency, every
/// layer's filter influence and the FGSM direction (for the default target the attack differentiates the same logit,
/// so its gradient is the saliency's up to each window's sign), and one more forward pass rescores the attacked
/// window. Equal to <see cref="SaliencyAndInfluence"/> followed by <see cref="Robustness.Fgsm"/>, which is what runs
/// when the explainer has no compiled kernels or the options explain another quantity.
/// </summary>
public sealed class LiveExplanationPass
{
    private readonly Explainer explainer;
    private readonly ExplainOptions options;
    private readonly double epsilon;
    private readonly bool includeWindows;

    /// <summary>The pass on <paramref name="explainer"/>'s model with the saliency's options and FGSM's eps.</summary>
    /// <param name="explainer">The deployed model.</param>
    /// <param name="options">The saliency's options.</param>
    /// <param name="epsilon">FGSM's eps.</param>
    /// <param name="includeWindows">
    /// Whether each FGSM result carries the window and the attacked window (two arrays per window); the live path, which
    /// publishes the scores only, leaves them empty on the fused pass.
    /// </param>
    public LiveExplanationPass(Explainer explainer, ExplainOptions options, double epsilon, bool includeWindows = true)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(epsilon);
        this.explainer = explainer;
        this.options = options;
        this.epsilon = epsilon;
        this.includeWindows = includeWindows;
        Fused = explainer.Compiled is not null && options.Target == GradientTarget.Auto;
    }

    /// <summary>Whether the attack shares the saliency's backward pass (compiled kernels, default target).</summary>
    public bool Fused { get; }

    /// <summary>Explains <paramref name="count"/> received windows (channel-major, one after another).</summary>
    public LiveWindowExplanation[] Explain(ReadOnlySpan<float> windows, int count, CancellationToken cancellationToken = default)
    {
        if (!Fused)
        {
            var explanations = SaliencyAndInfluence.Run(explainer, windows, count, options, cancellationToken);
            var attacks = Robustness.Fgsm.Run(explainer, windows, count, epsilon, cancellationToken);
            return [.. explanations.Zip(attacks, (e, a) => new LiveWindowExplanation(e, a))];
        }

        var compiled = explainer.Compiled!;
        return explainer.Split(windows, count, (part, n) =>
        {
            var (input, scales) = SaliencyAndInfluenceKernel.Preprocess(explainer.Metadata, part, n);
            IReadOnlyList<ModelLayer> layers = options.IncludeInfluence ? explainer.Layers : [];
            var (pass, attacks) = CompiledExplanations.Gradients(compiled, input, n, layers, options, epsilon, explainer.Metadata.DecisionThreshold, includeWindows);
            var explanations = SaliencyAndInfluenceKernel.Assemble(explainer.Metadata, compiled.Sigmoid, input, scales, n, layers, pass, options);
            return explanations.Zip(attacks!, (e, a) => new LiveWindowExplanation(e, a)).ToArray();
        }, cancellationToken, torch: false);
    }
}
