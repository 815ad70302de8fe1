namespace TSViz.Explain.Graph;

/// <summary>
/// A convolutional layer of the deployed model, discovered from the graph: its filters are the channels of
/// <see cref="ActivationTensor"/>, the conv output after the normalisation and activation that follow it alone.
/// </summary>
/// <param name="Name">The Conv node's name (conv1, ...).</param>
/// <param name="Index">Position among the model's conv layers, from the input.</param>
/// <param name="Filters">Number of filters (output channels).</param>
/// <param name="OutputLength">Time steps of each filter's activation for the model's window length.</param>
/// <param name="ActivationTensor">Graph tensor whose channels are the filters' activations.</param>
/// <param name="Activation">Operator applied after the conv (Relu, LeakyRelu, ...), or "none".</param>
public sealed record ModelLayer(string Name, int Index, int Filters, int OutputLength, string ActivationTensor, string Activation);

/// <summary>How the explained quantity is obtained from the model's output (TSViz Proposition 1).</summary>
public enum GradientTarget
{
    /// <summary>The logit for a sigmoid/softmax model (gradients do not saturate), the output otherwise.</summary>
    Auto,

    /// <summary>The deployed output itself (the probability): exactly zero gradients when it saturates.</summary>
    Output,

    /// <summary>The input of the final sigmoid/softmax.</summary>
    Logit,

    /// <summary>The probability recomputed at a temperature T slightly above 1 (Eq. 19).</summary>
    Temperature,
}
