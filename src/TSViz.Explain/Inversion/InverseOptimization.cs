using static TorchSharp.torch;

namespace TSViz.Explain.Inversion;

/// <summary>
/// Inverse optimisation (TSViz IV-D, Eq. 24-25): from seeded random starts x_0 ~ N(0, sd^2), gradient descent on the
/// input, x_{t+1} = x_t - alpha dL(phi(x_t), y*)/dx_t, shows what the model takes for the target output y* (binary
/// cross-entropy on the logit for probability models, stable where the sigmoid saturates; squared error for values).
/// It explains the model, not a window.
/// </summary>
public sealed class InverseOptimization : IModelExplanationMethod<InverseOptions, InverseResult>
{
    /// <summary>The registry name.</summary>
    public const string MethodName = "inversion";

    private readonly Explainer explainer;

    /// <summary>The method on <paramref name="explainer"/>'s model.</summary>
    public InverseOptimization(Explainer explainer)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        this.explainer = explainer;
    }

    /// <inheritdoc/>
    public string Name => MethodName;

    /// <inheritdoc/>
    /// <returns>One result per start (<see cref="InverseOptions.Starts"/>).</returns>
    public InverseResult[] Explain(InverseOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var scope = NewDisposeScope();
        return InverseOptimizationKernel.Run(explainer.Graph, options, cancellationToken);
    }
}
