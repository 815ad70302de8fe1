using Microsoft.Extensions.Options;
using TSViz.Explain.Attribution;
using TSViz.Explain.Robustness;
using TSViz.Monitor.Explaining;

namespace TSViz.Monitor.Live;

/// <summary>What the live path attaches to one scored window.</summary>
internal sealed record LiveExplanation(
    WindowExplanation Explanation,
    RobustnessResult Fgsm,
    FlipSearchResult? Flip,
    IReadOnlyList<FilterSaliencyMessage>? FilterSaliency);

/// <summary>Explains a batch of live windows on the deployed model's weights.</summary>
internal interface ILiveExplainer
{
    /// <summary>
    /// Explains <paramref name="count"/> raw windows (channel-major, one after another); windows flagged in
    /// <paramref name="alerting"/> (an open alert) also get the smallest flipping eps and their top filters' own saliency.
    /// </summary>
    Task<LiveExplanation[]> ExplainAsync(float[] windows, int count, bool[] alerting, CancellationToken cancellationToken);
}

/// <summary>
/// The live explanations: saliency, channel contributions and filter influence (Eq. 11-16), one FGSM step on every
/// window; the smallest flipping eps and the top filters' saliency on windows of an open alert. Runs on the live
/// explainer (<see cref="LiveModel.Explainer"/>), the very weights of the ONNX file that scores.
/// </summary>
internal sealed class LiveExplainer(LiveModel model, IOptions<MonitorOptions> options, MonitorMetrics metrics) : ILiveExplainer
{
    public async Task<LiveExplanation[]> ExplainAsync(float[] windows, int count, bool[] alerting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(alerting);
        var settings = options.Value;
        var metadata = model.Metadata;
        int channels = metadata.Channels.Count;
        int length = metadata.WindowLength;
        int size = channels * length;
        using var turn = await model.TakeExplainerAsync(cancellationToken).ConfigureAwait(false);
        var explainer = model.Explainer;
        var explanations = explainer.Explain(windows.AsSpan(0, count * size), count, new ExplainOptions { IncludeReceivedSaliency = false });
        var fgsm = explainer.Fgsm(windows.AsSpan(0, count * size), count, settings.RobustnessEpsilon);
        var flips = new FlipSearchResult?[count];
        var maps = new IReadOnlyList<FilterSaliencyMessage>?[count];
        var chosen = Enumerable.Range(0, count).Where(i => alerting[i]).ToArray();
        if (chosen.Length > 0)
        {
            var subset = new float[chosen.Length * size];
            for (int k = 0; k < chosen.Length; k++)
            {
                windows.AsSpan(chosen[k] * size, size).CopyTo(subset.AsSpan(k * size));
            }

            var found = explainer.SmallestFlippingEpsilon(subset, chosen.Length, new FlipSearchOptions { EpsilonMax = settings.AlertEpsilonMax });
            for (int k = 0; k < chosen.Length; k++)
            {
                int i = chosen[k];
                flips[i] = found[k];
                if (found[k].SmallestFlippingEpsilon is double eps)
                {
                    metrics.SmallestFlippingEpsilon.Observe(eps);
                }

                if (settings.TopFilters > 0)
                {
                    var top = explanations[i].Layers.ToDictionary(l => l.Name, l => l.Ranking.Take(settings.TopFilters).ToArray());
                    maps[i] = explainer.FilterSaliency(subset.AsSpan(k * size, size), 1, top)[0]
                        .Select(m => new FilterSaliencyMessage(m.Layer, m.Filter, ChannelRows.Of(m.Saliency, channels, length))).ToList();
                }
            }
        }

        return [.. Enumerable.Range(0, count).Select(i => new LiveExplanation(explanations[i], fgsm[i], flips[i], maps[i]))];
    }
}
