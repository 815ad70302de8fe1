using Microsoft.Extensions.Options;
using TSViz.Explain;
using TSViz.Explain.Attribution;
using TSViz.Explain.Robustness;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>What the live path attaches to one scored window; a method left out of <c>Monitor:Explanations</c> leaves its part null.</summary>
internal sealed record LiveExplanation(
    WindowExplanation Explanation,
    RobustnessResult? Fgsm,
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
/// The live explanations, the methods of <c>Monitor:Explanations</c> (<see cref="LiveExplanationSet"/>): by default
/// saliency, channel contributions and filter influence (Eq. 11-16) from one backward pass and one FGSM step on every
/// window; the smallest flipping eps and the top filters' saliency on windows of an open alert. Runs on the live
/// explainer (<see cref="LiveModel.Explainer"/>), the very weights of the ONNX file that scores.
/// </summary>
internal sealed class LiveExplainer : ILiveExplainer
{
    private readonly LiveModel model;
    private readonly LiveMetrics metrics;
    private readonly int topFilters;
    private readonly IExplanationMethod<ExplainOptions, WindowExplanation> attribution;
    private readonly Fgsm? fgsm;
    private readonly FlipSearch? flipSearch;
    private readonly PerFilterSaliency? filterSaliency;
    private readonly ExplainOptions attributionOptions = new() { IncludeReceivedSaliency = false };
    private readonly FgsmOptions fgsmOptions;
    private readonly FlipSearchOptions flipSearchOptions;

    public LiveExplainer(LiveModel model, IOptions<MonitorOptions> options, LiveMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        this.model = model;
        this.metrics = metrics;
        var settings = options.Value;
        var set = LiveExplanationSet.Parse(settings.Explanations);
        var explainer = model.Explainer;
        // Saliency and influence share one backward pass; without influence the pass stops at the input.
        attribution = set.Influence ? new SaliencyAndInfluence(explainer) : new InputSaliency(explainer);
        fgsm = set.Fgsm ? new Fgsm(explainer) : null;
        flipSearch = set.FlipSearch ? new FlipSearch(explainer) : null;
        filterSaliency = set.FilterSaliency && settings.TopFilters > 0 ? new PerFilterSaliency(explainer) : null;
        topFilters = settings.TopFilters;
        fgsmOptions = new FgsmOptions { Epsilon = settings.RobustnessEpsilon };
        flipSearchOptions = new FlipSearchOptions { EpsilonMax = settings.AlertEpsilonMax };
    }

    public async Task<LiveExplanation[]> ExplainAsync(float[] windows, int count, bool[] alerting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(alerting);
        var metadata = model.Metadata;
        int channels = metadata.Channels.Count;
        int length = metadata.WindowLength;
        int size = channels * length;
        using var turn = await model.TakeExplainerAsync(cancellationToken).ConfigureAwait(false);
        var batch = new WindowBatch(windows.AsMemory(0, count * size), count);
        var explanations = attribution.Explain(batch, attributionOptions, cancellationToken);
        var robustness = fgsm?.Explain(batch, fgsmOptions, cancellationToken);
        var flips = new FlipSearchResult?[count];
        var maps = new IReadOnlyList<FilterSaliencyMessage>?[count];
        var chosen = Enumerable.Range(0, count).Where(i => alerting[i]).ToArray();
        if (chosen.Length > 0 && (flipSearch is not null || filterSaliency is not null))
        {
            var subset = new float[chosen.Length * size];
            for (int k = 0; k < chosen.Length; k++)
            {
                windows.AsSpan(chosen[k] * size, size).CopyTo(subset.AsSpan(k * size));
            }

            var found = flipSearch?.Explain(new WindowBatch(subset, chosen.Length), flipSearchOptions, cancellationToken);
            for (int k = 0; k < chosen.Length; k++)
            {
                int i = chosen[k];
                flips[i] = found?[k];
                if (found?[k].SmallestFlippingEpsilon is double eps)
                {
                    metrics.SmallestFlippingEpsilon.Observe(eps);
                }

                if (filterSaliency is not null)
                {
                    var top = explanations[i].Layers.ToDictionary(l => l.Name, l => l.Ranking.Take(topFilters).ToArray());
                    maps[i] = filterSaliency.Explain(WindowBatch.One(subset.AsMemory(k * size, size)), new FilterSaliencyOptions { Filters = top }, cancellationToken)[0]
                        .Select(m => new FilterSaliencyMessage(m.Layer, m.Filter, ChannelRows.Of(m.Saliency, channels, length))).ToList();
                }
            }
        }

        return [.. Enumerable.Range(0, count).Select(i => new LiveExplanation(explanations[i], robustness?[i], flips[i], maps[i]))];
    }
}
