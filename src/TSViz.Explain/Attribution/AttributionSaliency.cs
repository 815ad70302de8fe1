namespace TSViz.Explain.Attribution;

/// <summary>
/// Puts any input attribution in the shape of the paper's saliency, so the live path, the history, the API and the
/// web view show it unchanged: the raw map is |A|, scaled 0-1 over the window (Eq. 14), each channel's share of the
/// summed |A|, and the cells of largest |A|.
/// </summary>
public static class AttributionSaliency
{
    /// <summary>The paper's |dy/dx|.</summary>
    public const string Gradient = "gradient";

    /// <summary>|x dy/dx|.</summary>
    public const string GradientTimesInput = "gradient-x-input";

    /// <summary>|Integrated Gradients|.</summary>
    public const string IntegratedGradients = "integrated-gradients";

    /// <summary>|SmoothGrad|.</summary>
    public const string SmoothGrad = "smoothgrad";

    /// <summary>|occlusion|.</summary>
    public const string Occlusion = "occlusion";

    /// <summary>Every method's name, the paper's first.</summary>
    public static IReadOnlyList<string> Methods { get; } = [Gradient, GradientTimesInput, IntegratedGradients, SmoothGrad, Occlusion];

    /// <summary>
    /// The signed attributions of <paramref name="method"/> with each method's default settings (for
    /// <see cref="Gradient"/> the signed dy/dx; the live saliency pass gives its magnitude with the filter influence).
    /// </summary>
    public static InputAttribution[] Compute(string method, Explainer explainer, ReadOnlySpan<float> windows, int count, ExplainOptions options, CancellationToken cancellationToken = default)
        => method switch
        {
            Gradient => InputAttributions.Gradient(explainer, windows, count, options, cancellationToken),
            GradientTimesInput => InputAttributions.GradientTimesInput(explainer, windows, count, options, cancellationToken),
            IntegratedGradients => InputAttributions.IntegratedGradients(explainer, windows, count, new IntegratedGradientsOptions(), options, cancellationToken),
            SmoothGrad => InputAttributions.SmoothGrad(explainer, windows, count, new SmoothGradOptions(), options, cancellationToken),
            Occlusion => InputAttributions.Occlusion(explainer, windows, count, new OcclusionOptions(), options, cancellationToken),
            _ => throw new ArgumentException($"Unknown input attribution '{method}'; expected one of {string.Join(", ", Methods)}.", nameof(method)),
        };

    /// <summary>
    /// <paramref name="explanation"/> with its saliency replaced by <paramref name="attribution"/>'s magnitude; the
    /// score, the filter influence and the rest stay. The saliency with respect to the received window is dropped: it
    /// is the gradient's.
    /// </summary>
    public static WindowExplanation Apply(WindowExplanation explanation, InputAttribution attribution, IReadOnlyList<string> channels, int topSteps)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        ArgumentNullException.ThrowIfNull(attribution);
        ArgumentNullException.ThrowIfNull(channels);
        int length = attribution.Attribution.Length / channels.Count;
        var raw = new float[attribution.Attribution.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            raw[i] = Math.Abs(attribution.Attribution[i]);
        }

        var shares = new float[channels.Count];
        double total = 0;
        for (int c = 0; c < shares.Length; c++)
        {
            double sum = 0;
            for (int t = 0; t < length; t++)
            {
                sum += raw[(c * length) + t];
            }

            shares[c] = (float)sum;
            total += sum;
        }

        for (int c = 0; total > 0 && c < shares.Length; c++)
        {
            shares[c] = (float)(shares[c] / total);
        }

        return explanation with
        {
            Saliency = FilterSelection.MinMaxScale(raw),
            SaliencyRaw = raw,
            SaliencyReceived = null,
            ChannelContributions = shares,
            TopSteps = SaliencyAndInfluenceKernel.TopSteps(raw, channels, length, topSteps),
            GradientsVanished = total == 0,
            SaliencyMethod = attribution.Method,
        };
    }
}
