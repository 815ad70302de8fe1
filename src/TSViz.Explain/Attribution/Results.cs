namespace TSViz.Explain.Attribution;

/// <summary>One input point among the most salient of a window.</summary>
public sealed record SalientStep(int Channel, string ChannelName, int Step, float Saliency);

/// <summary>The influence of every filter of one conv layer on the explained output (Eq. 15-16).</summary>
/// <param name="Name">The layer (Conv node) name.</param>
/// <param name="Influence">Per filter: sum over t of |dy/da_j(t)|, unscaled.</param>
/// <param name="Scaled">Influence min-max scaled within the layer (0-1).</param>
/// <param name="Ranking">Filter indices, most influential first.</param>
/// <param name="Activations">Per filter, its activation a_j(t), when requested (filters x time, filter-major).</param>
public sealed record LayerInfluence(string Name, float[] Influence, float[] Scaled, int[] Ranking, float[]? Activations);

/// <summary>
/// The TSViz explanation of one window's prediction. Saliency arrays are channel-major (channel c, step t at
/// <c>c * length + t</c>) and taken with respect to the model's input, i.e. the window after the preprocessing
/// the model declares; <see cref="SaliencyReceived"/> is the same gradient with respect to the window as it
/// was received (through the preprocessing), when the model preprocesses.
/// </summary>
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
    IReadOnlyList<LayerInfluence> Layers);

/// <summary>What to compute besides the saliency and the influence.</summary>
public sealed record ExplainOptions
{
    /// <summary>Which quantity to differentiate (Proposition 1). Auto: the logit where the model has one.</summary>
    public Graph.GradientTarget Target { get; init; } = Graph.GradientTarget.Auto;

    /// <summary>Temperature T of Eq. 19 when <see cref="Target"/> is Temperature; slightly above 1.</summary>
    public double Temperature { get; init; } = 1.5;

    /// <summary>How many of the most salient input points to list.</summary>
    public int TopSteps { get; init; } = 5;

    /// <summary>Also return every filter's activation.</summary>
    public bool IncludeActivations { get; init; }

    /// <summary>Also return the saliency with respect to the received (not preprocessed) window.</summary>
    public bool IncludeReceivedSaliency { get; init; } = true;
}

/// <summary>One filter's own input saliency |d(sum_t a_j(t))/dx| (Eq. 11-13), channel-major, unscaled.</summary>
public sealed record FilterSaliencyMap(string Layer, int Filter, float[] Saliency);
