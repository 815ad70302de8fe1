using System.Text.Json;
using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using TSViz.Explain.Robustness;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>Runs alone: its exact comparisons need nobody changing libtorch's thread count between the two computations.</summary>
[CollectionDefinition(nameof(LiveExplainerTests), DisableParallelization = true)]
public sealed class LiveExplainerRunsAlone;

[Collection(nameof(LiveExplainerTests))]
public sealed class LiveExplainerTests : IDisposable
{
    private const int Windows = 6;

    private readonly LiveModel model = new(RepositoryPaths.AnomalyModel);
    private readonly float[] values = new AnomalyDatasetGenerator(5).Generate(Windows).Windows.Values;
    private readonly bool[] alerting = [false, true, false, false, true, false];

    public void Dispose() => model.Dispose();

    /// <summary>
    /// The default set gives, window by window, what the four fixed calls of the live path gave before the set existed:
    /// saliency and influence, FGSM at RobustnessEpsilon, and on alert windows the flip search at AlertEpsilonMax and the
    /// top filters' own saliency (the FGSM result without its two windows, which the live path does not publish).
    /// </summary>
    [Fact]
    public async Task ExplainAsync_DefaultSet_GivesWhatTheFixedCallsGave()
    {
        var settings = new MonitorOptions();
        var live = await Explainer(settings).ExplainAsync(values, Windows, alerting, CancellationToken.None);

        var explainer = model.Explainer;
        int size = model.Metadata.Channels.Count * model.Metadata.WindowLength;
        var explanations = explainer.Explain(values, Windows, new ExplainOptions { IncludeReceivedSaliency = false, TimesInput = true });
        var fgsm = explainer.Fgsm(values, Windows, settings.RobustnessEpsilon);
        int[] chosen = [1, 4];
        var subset = chosen.SelectMany(i => values.AsSpan(i * size, size).ToArray()).ToArray();
        var flips = explainer.SmallestFlippingEpsilon(subset, chosen.Length, new FlipSearchOptions { EpsilonMax = settings.AlertEpsilonMax });
        for (int i = 0; i < Windows; i++)
        {
            Assert.Equal(Json(explanations[i]), Json(live[i].Explanation));
            // One fused pass gives the saliency and the attack; the live path publishes the attack's scores, not its windows.
            Assert.Equal(Json(fgsm[i] with { Window = [], AdversarialWindow = [] }), Json(live[i].Fgsm));
            int k = Array.IndexOf(chosen, i);
            Assert.Equal(k < 0 ? "null" : Json(flips[k]), Json(live[i].Flip));
            if (k < 0)
            {
                Assert.Null(live[i].FilterSaliency);
                continue;
            }

            var top = explanations[i].Layers.ToDictionary(l => l.Name, l => l.Ranking.Take(settings.TopFilters).ToArray());
            var maps = explainer.FilterSaliency(subset.AsSpan(k * size, size), 1, top)[0]
                .Select(m => new FilterSaliencyMessage(m.Layer, m.Filter, ChannelRows.Of(m.Saliency, model.Metadata.Channels.Count, model.Metadata.WindowLength)));
            Assert.Equal(Json(maps.ToList()), Json(live[i].FilterSaliency));
        }
    }

    [Fact]
    public async Task ExplainAsync_SaliencyAlone_RunsNothingElse()
    {
        var live = await Explainer(new MonitorOptions { Explanations = ["saliency"] }).ExplainAsync(values, Windows, alerting, CancellationToken.None);
        var expected = model.Explainer.Explain(values, Windows, new ExplainOptions { IncludeReceivedSaliency = false, TimesInput = true });
        for (int i = 0; i < Windows; i++)
        {
            Assert.Equal(Json(expected[i] with { Layers = [] }), Json(live[i].Explanation));
            Assert.Null(live[i].Fgsm);
            Assert.Null(live[i].Flip);
            Assert.Null(live[i].FilterSaliency);
        }
    }

    /// <summary>
    /// Another saliency method takes the gradient's place in the same shape (|A| scaled, channel shares, top steps) and
    /// says so; the filter influence stays the gradient pass's.
    /// </summary>
    [Fact]
    public async Task ExplainAsync_IntegratedGradients_TheAttributionsMagnitudeInTheSaliencysShape()
    {
        var live = await Explainer(new MonitorOptions { SaliencyMethod = "integrated-gradients" }).ExplainAsync(values, Windows, alerting, CancellationToken.None);
        var gradient = model.Explainer.Explain(values, Windows, new ExplainOptions { IncludeReceivedSaliency = false });
        var ig = InputAttributions.IntegratedGradients(model.Explainer, values, Windows, new IntegratedGradientsOptions(), new ExplainOptions());
        int length = model.Metadata.WindowLength;
        for (int i = 0; i < Windows; i++)
        {
            var e = live[i].Explanation;
            Assert.Equal("integrated-gradients", e.SaliencyMethod);
            Assert.Equal(ig[i].Attribution.Select(Math.Abs), e.SaliencyRaw);
            Assert.Equal(1f, e.Saliency.Max());
            float total = ig[i].Attribution.Sum(Math.Abs);
            for (int c = 0; c < model.Metadata.Channels.Count; c++)
            {
                Assert.Equal(ig[i].Attribution.Skip(c * length).Take(length).Sum(Math.Abs) / total, e.ChannelContributions[c], 4);
            }

            var top = e.TopSteps[0];
            Assert.Equal(ig[i].Attribution.Max(Math.Abs), Math.Abs(ig[i].Attribution[(top.Channel * length) + top.Step]));
            Assert.Equal(Json(gradient[i].Layers), Json(e.Layers));
            Assert.Equal(gradient[i].Score, e.Score);
        }
    }

    /// <summary>
    /// The alert's windows the model flags get the deletion check, recomputed here through ONNX Runtime (not the
    /// explainer): the score with the top 5 % of cells by saliency set to 0 in the model's input, and the mean over the
    /// seeded random removals. An alert window scoring below the threshold (the alert waiting to close) and a flagged
    /// window outside an alert get none.
    /// </summary>
    [Fact]
    public async Task ExplainAsync_FlaggedAlertWindows_DeletionCheckAgreesWithOnnxRuntime()
    {
        var metadata = model.Metadata;
        int size = metadata.Channels.Count * metadata.WindowLength;
        var pool = new AnomalyDatasetGenerator(15).Generate(120).Windows;
        var flaggedInPool = Enumerable.Range(0, 120).Where(i => Score(ModelSpace(pool.Window(i).ToArray())) >= model.Threshold).ToList();
        int normal = Enumerable.Range(0, 120).First(i => !flaggedInPool.Contains(i));
        Assert.True(flaggedInPool.Count >= 3, $"{flaggedInPool.Count} flagged windows in the pool");
        int[] picked = [flaggedInPool[0], normal, flaggedInPool[1], flaggedInPool[2]];
        bool[] inAlert = [true, true, true, false];
        var batch = picked.SelectMany(i => pool.Window(i).ToArray()).ToArray();

        var settings = new MonitorOptions();
        var registry = new CollectorRegistry();
        var live = await new LiveExplainer(model, Options.Create(settings), new LiveMetrics(registry, model)).ExplainAsync(batch, picked.Length, inAlert, CancellationToken.None);

        int cells = (int)Math.Round(0.05 * size, MidpointRounding.AwayFromZero);
        var random = new Random(29);
        Assert.Null(live[1].Faithfulness); // in the alert, scoring low
        Assert.Null(live[3].Faithfulness); // flagged, no alert open
        foreach (int i in new[] { 0, 2 })
        {
            var check = live[i].Faithfulness;
            Assert.NotNull(check);
            var window = ModelSpace(batch.AsSpan(i * size, size).ToArray());
            var saliency = live[i].Explanation.SaliencyRaw;
            var top = Enumerable.Range(0, size).OrderByDescending(j => saliency[j]).ThenBy(j => j).Take(cells).ToArray();
            Assert.Equal(cells, check.Cells);
            Assert.Equal(Score(window), check.Score, 4);
            Assert.Equal(Score(Removed(window, top)), check.DeletionScore, 4);

            // The random removals, drawn as the check draws them (one seeded generator over the checked windows in order).
            double mean = 0;
            for (int d = 0; d < settings.Faithfulness.RandomDraws; d++)
            {
                var order = Enumerable.Range(0, size).ToArray();
                random.Shuffle(order);
                mean += Score(Removed(window, order.Take(cells)));
            }

            Assert.Equal(mean / settings.Faithfulness.RandomDraws, check.RandomScore, 4);
            Assert.Equal(check.RandomScore - check.DeletionScore >= settings.Faithfulness.MinMargin ? "passed" : "failed", check.Verdict);
        }

        using var text = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(text);
        string exposition = System.Text.Encoding.UTF8.GetString(text.ToArray());
        var counts = exposition.Split('\n').Where(l => l.StartsWith("tsviz_alert_faithfulness_margin_count", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, counts.Sum(l => double.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture)));
    }

    private float[] ModelSpace(float[] window)
    {
        WindowPreprocessing.Apply(model.Metadata.Preprocessing, window, model.Metadata.Channels.Count, model.Metadata.WindowLength);
        return window;
    }

    [Fact]
    public async Task ExplainAsync_FaithfulnessOff_NoCheck()
    {
        var settings = new MonitorOptions();
        settings.Faithfulness.Enabled = false;
        var live = await Explainer(settings).ExplainAsync(values, Windows, alerting, CancellationToken.None);
        Assert.All(live, l => Assert.Null(l.Faithfulness));
    }

    /// <summary>
    /// The deployed model keeps libtorch's oneDNN (its batched gradients agree with single windows at load) and a
    /// window's live explanation is the one it gets alone (a libtorch fault once made them differ on small shapes).
    /// </summary>
    [Fact]
    public async Task ExplainAsync_ShippedModel_OneDnnOnAndEachWindowAsIfAlone()
    {
        Assert.False(model.Explainer.SwitchedOffOneDnn);
        Assert.True(TSViz.Explain.Runtime.TorchRuntime.IsMkldnnEnabled);
        var live = await Explainer(new MonitorOptions { Explanations = ["saliency", "influence"], SaliencyMethod = "gradient" }).ExplainAsync(values, Windows, alerting, CancellationToken.None);
        int size = model.Metadata.Channels.Count * model.Metadata.WindowLength;
        for (int i = 0; i < Windows; i++)
        {
            var alone = model.Explainer.Explain(values.AsSpan(i * size, size), 1, new ExplainOptions { IncludeReceivedSaliency = false })[0];
            float scale = alone.SaliencyRaw.Max();
            Assert.All(alone.SaliencyRaw.Zip(live[i].Explanation.SaliencyRaw), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4f * scale, $"window {i}: {p.First} alone, {p.Second} in the batch"));
        }
    }

    private float Score(float[] modelInput)
    {
        var score = new float[1];
        model.Scorer.Score(modelInput, 1, score);
        return score[0];
    }

    private static float[] Removed(float[] window, IEnumerable<int> cells)
    {
        var copy = (float[])window.Clone();
        foreach (int j in cells)
        {
            copy[j] = 0;
        }

        return copy;
    }

    private LiveExplainer Explainer(MonitorOptions settings)
        => new(model, Options.Create(settings), new LiveMetrics(new CollectorRegistry(), model));

    private static string Json<T>(T value) => JsonSerializer.Serialize(value);
}
