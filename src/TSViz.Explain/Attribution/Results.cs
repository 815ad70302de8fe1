namespace TSViz.Explain.Attribution;

/// <summary>One input point among the most salient of a window.</summary>
/// <param name="Channel">Index of the channel in the model's channel order.</param>
/// <param name="ChannelName">The channel's name as the model declares it (e.g. "temperature").</param>
/// <param name="Step">Time step within the window, 0 being the oldest sample.</param>
/// <param name="Saliency">The point's unscaled saliency |dy/dx| (Eq. 12-13).</param>
public sealed record SalientStep(int Channel, string ChannelName, int Step, float Saliency);

/// <summary>The influence of every filter of one conv layer on the explained output (Eq. 15-16).</summary>
/// <param name="Name">The layer (Conv node) name.</param>
/// <param name="Influence">Per filter: sum over t of |dy/da_j(t)|, unscaled.</param>
/// <param name="Scaled">Influence min-max scaled within the layer (0-1).</param>
/// <param name="Ranking">Filter indices, most influential first.</param>
/// <param name="Activations">Per filter, its activation a_j(t), when requested (filters x time, filter-major).</param>
public sealed record LayerInfluence(string Name, float[] Influence, float[] Scaled, int[] Ranking, float[]? Activations)
{
    /// <summary>
    /// Per filter, its contribution |sum over t of a_j(t) dy/da_j(t)|: the first-order (Taylor) estimate of how much y
    /// changes when the filter is zeroed, from the same backward pass as the influence; null unless requested
    /// (<see cref="ExplainOptions.IncludeContribution"/>). Unlike the influence (a gradient only), it weighs the
    /// gradient by what the filter actually outputs, and it is exact when y is linear in the layer's activations.
    /// </summary>
    public float[]? Contribution { get; init; }
}

/// <summary>
/// The TSViz explanation of one window's prediction. Saliency arrays are channel-major (channel c, step t at
/// <c>c * length + t</c>) and taken with respect to the model's input, i.e. the window after the preprocessing
/// the model declares; <see cref="SaliencyReceived"/> is the same gradient with respect to the window as it
/// was received (through the preprocessing), when the model preprocesses.
/// </summary>
/// <param name="Score">The model's reported output: the probability of a sigmoid model, the predicted class's
/// probability of a softmax model, the value of a regression model.</param>
/// <param name="Decision">Score at or above the model's decision threshold; null when the model declares none.</param>
/// <param name="ExplainedValue">The quantity that was differentiated (the logit by default), for this window.</param>
/// <param name="Differentiated">What <paramref name="ExplainedValue"/> is: "logit", "probability", "value" or
/// "probability at temperature T" (Proposition 1, Eq. 19).</param>
/// <param name="GradientsVanished">Every input gradient was exactly zero: the saliency carries no information
/// (Proposition 1: a saturated sigmoid or softmax); choose the logit or a temperature instead.</param>
/// <param name="OutputSaturated">A probability model's output is exactly 0 or 1 in float32.</param>
/// <param name="Saliency">|dy/dx| min-max scaled over the window (Eq. 14), 0-1.</param>
/// <param name="SaliencyRaw">|dy/dx| unscaled (Eq. 12-13), comparable across windows.</param>
/// <param name="SaliencyReceived">|dy/dr| for the received window r, unscaled; null when the model does not
/// preprocess or it was not requested (<see cref="ExplainOptions.IncludeReceivedSaliency"/>).</param>
/// <param name="ChannelContributions">Each channel's share of the summed raw saliency; sums to 1 unless the
/// gradients vanished (then all 0).</param>
/// <param name="TopSteps">The most salient points, largest first (<see cref="ExplainOptions.TopSteps"/> of them).</param>
/// <param name="Layers">Filter influence of every conv layer, input side first; empty when influence was not
/// requested (<see cref="ExplainOptions.IncludeInfluence"/>).</param>
public sealed record WindowExplanation(
    float Score,
    bool? Decision,
    float ExplainedValue,
    string Differentiated,
    bool GradientsVanished,
    bool OutputSaturated,
    float[] Saliency,
    float[] SaliencyRaw,
    float[]? SaliencyReceived,
    float[] ChannelContributions,
    IReadOnlyList<SalientStep> TopSteps,
    IReadOnlyList<LayerInfluence> Layers)
{
    /// <summary>
    /// The method behind <see cref="Saliency"/>, <see cref="SaliencyRaw"/>, <see cref="ChannelContributions"/> and
    /// <see cref="TopSteps"/>: "gradient" (|dy/dx|, the paper's) or another input attribution's magnitude
    /// (<see cref="AttributionSaliency"/>).
    /// </summary>
    public string SaliencyMethod { get; init; } = AttributionSaliency.Gradient;
}

/// <summary>What to compute besides the input saliency; the options of <see cref="SaliencyAndInfluence"/>, <see cref="InputSaliency"/> and <see cref="FilterInfluence"/>.</summary>
public sealed record ExplainOptions
{
    /// <summary>Which quantity to differentiate (Proposition 1). Auto: the logit where the model has one.</summary>
    public Graph.GradientTarget Target { get; init; } = Graph.GradientTarget.Auto;

    /// <summary>Temperature T of Eq. 19 when <see cref="Target"/> is Temperature; slightly above 1.</summary>
    public double Temperature { get; init; } = 1.5;

    /// <summary>How many of the most salient input points to list.</summary>
    public int TopSteps { get; init; } = 5;

    /// <summary>
    /// Also compute every conv layer's filter influence (Eq. 15-16) in the same backward pass. Off, the pass stops at
    /// the input and <see cref="WindowExplanation.Layers"/> is empty.
    /// </summary>
    public bool IncludeInfluence { get; init; } = true;

    /// <summary>Also return every filter's activation (with the influence only).</summary>
    public bool IncludeActivations { get; init; }

    /// <summary>
    /// Also compute every filter's contribution |sum_t a_j(t) dy/da_j(t)| (<see cref="LayerInfluence.Contribution"/>)
    /// in the same backward pass (with the influence only).
    /// </summary>
    public bool IncludeContribution { get; init; }

    /// <summary>Also return the saliency with respect to the received (not preprocessed) window.</summary>
    public bool IncludeReceivedSaliency { get; init; } = true;

    /// <summary>
    /// Take the saliency as |x * dy/dx| (gradient x input, in the model's input space) rather than the paper's |dy/dx|:
    /// the same backward pass, no extra cost. The saliency with respect to the received window is then not given.
    /// </summary>
    public bool TimesInput { get; init; }
}

/// <summary>One filter's own input saliency |d(sum_t a_j(t))/dx| (Eq. 11-13), channel-major, unscaled.</summary>
/// <param name="Layer">The conv layer's name.</param>
/// <param name="Filter">The filter's index within the layer.</param>
/// <param name="Saliency">|d(sum_t a_j(t))/dx| per input point, channel-major, with respect to the model's input.</param>
public sealed record FilterSaliencyMap(string Layer, int Filter, float[] Saliency);
