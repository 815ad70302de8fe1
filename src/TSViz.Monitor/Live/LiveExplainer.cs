using Microsoft.Extensions.Options;
using TSViz.Explain;
using TSViz.Explain.Attribution;
using TSViz.Explain.Evaluation;
using TSViz.Explain.Robustness;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>What the live path attaches to one scored window; a method left out of <c>Monitor:Explanations</c> leaves its part null.</summary>
internal sealed record LiveExplanation(
    WindowExplanation Explanation,
    RobustnessResult? Fgsm,
    FlipSearchResult? Flip,
    IReadOnlyList<FilterSaliencyMessage>? FilterSaliency,
    FaithfulnessMessage? Faithfulness = null);

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
    private readonly LiveExplanationPass? fused;
    private readonly FlipSearch? flipSearch;
    private readonly PerFilterSaliency? filterSaliency;
    private readonly ExplainOptions attributionOptions;
    private readonly FlipSearchOptions flipSearchOptions;
    private readonly string saliencyMethod;
    private readonly FaithfulnessSettings? faithfulness;

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
        flipSearch = set.FlipSearch ? new FlipSearch(explainer) : null;
        filterSaliency = set.FilterSaliency && settings.TopFilters > 0 ? new PerFilterSaliency(explainer) : null;
        topFilters = settings.TopFilters;
        flipSearchOptions = new FlipSearchOptions { EpsilonMax = settings.AlertEpsilonMax };
        saliencyMethod = settings.SaliencyMethod;
        // Gradient x input comes from the saliency pass itself (x times the gradient it computes anyway).
        attributionOptions = new ExplainOptions { IncludeReceivedSaliency = false, TimesInput = saliencyMethod == AttributionSaliency.GradientTimesInput };
        // With FGSM on, one pass computes the saliency, the influence and the attack: on the compiled kernels one backward
        // pass serves both (the attack's gradient is the saliency's up to the window's sign) and only the rescore is added.
        fused = set.Fgsm ? new LiveExplanationPass(explainer, attributionOptions with { IncludeInfluence = set.Influence }, settings.RobustnessEpsilon, includeWindows: false) : null;
        faithfulness = settings.Faithfulness.Enabled ? settings.Faithfulness : null;
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
        WindowExplanation[] explanations;
        RobustnessResult[]? robustness = null;
        if (fused is not null)
        {
            var both = fused.Explain(batch.Values.Span, count, cancellationToken);
            explanations = [.. both.Select(b => b.Explanation)];
            robustness = [.. both.Select(b => b.Fgsm)];
        }
        else
        {
            explanations = attribution.Explain(batch, attributionOptions, cancellationToken);
        }

        if (saliencyMethod is not (AttributionSaliency.Gradient or AttributionSaliency.GradientTimesInput))
        {
            // Another input attribution in the saliency's place; the filter influence stays the gradient pass's (Eq. 16).
            var attributions = AttributionSaliency.Compute(saliencyMethod, model.Explainer, batch.Values.Span, count, attributionOptions, cancellationToken);
            for (int i = 0; i < count; i++)
            {
                explanations[i] = AttributionSaliency.Apply(explanations[i], attributions[i], metadata.Channels, attributionOptions.TopSteps);
            }
        }

        var flips = new FlipSearchResult?[count];
        var maps = new IReadOnlyList<FilterSaliencyMessage>?[count];
        var checks = new FaithfulnessMessage?[count];
        var chosen = Enumerable.Range(0, count).Where(i => alerting[i]).ToArray();
        if (chosen.Length > 0 && (flipSearch is not null || filterSaliency is not null || faithfulness is not null))
        {
            var subset = new float[chosen.Length * size];
            for (int k = 0; k < chosen.Length; k++)
            {
                windows.AsSpan(chosen[k] * size, size).CopyTo(subset.AsSpan(k * size));
            }

            var found = flipSearch?.Explain(new WindowBatch(subset, chosen.Length), flipSearchOptions, cancellationToken);
            // The check asks whether the highlighted points carry the alert's score, so it runs on the alert's windows the
            // model flags (the peak always among them), not on those scoring low while the alert waits to close.
            var flagged = Enumerable.Range(0, chosen.Length).Where(k => explanations[chosen[k]].Decision != false).ToArray();
            var deletion = faithfulness is null || flagged.Length == 0
                ? null
                : DeletionCheck.Run(model.Explainer, [.. flagged.SelectMany(k => subset.AsSpan(k * size, size).ToArray())], flagged.Length,
                    [.. flagged.Select(k => explanations[chosen[k]].SaliencyRaw)], faithfulness.Fraction, faithfulness.RandomDraws, cancellationToken: cancellationToken);
            for (int k = 0; k < chosen.Length; k++)
            {
                int i = chosen[k];
                flips[i] = found?[k];
                if (found?[k].SmallestFlippingEpsilon is double eps)
                {
                    metrics.SmallestFlippingEpsilon.Observe(eps);
                }

                if (deletion is not null && Array.IndexOf(flagged, k) is int at and >= 0)
                {
                    checks[i] = Verdict(deletion[at]);
                    metrics.FaithfulnessMargin.WithLabels(checks[i]!.Verdict).Observe(deletion[at].Margin);
                }

                if (filterSaliency is not null)
                {
                    var top = explanations[i].Layers.ToDictionary(l => l.Name, l => l.Ranking.Take(topFilters).ToArray());
                    maps[i] = filterSaliency.Explain(WindowBatch.One(subset.AsMemory(k * size, size)), new FilterSaliencyOptions { Filters = top }, cancellationToken)[0]
                        .Select(m => new FilterSaliencyMessage(m.Layer, m.Filter, ChannelRows.Of(m.Saliency, channels, length))).ToList();
                }
            }
        }

        return [.. Enumerable.Range(0, count).Select(i => new LiveExplanation(explanations[i], robustness?[i], flips[i], maps[i], checks[i]))];
    }

    /// <summary>Passed when removing the salient cells lowered the score at least MinMargin more than removing random ones.</summary>
    private FaithfulnessMessage Verdict(DeletionCheckResult check)
        => new(check.Fraction, check.Cells, (float)check.Score, (float)check.DeletionScore, (float)check.RandomScore, check.RandomDraws,
            check.Margin >= faithfulness!.MinMargin ? FaithfulnessMessage.Passed : FaithfulnessMessage.Failed);
}
