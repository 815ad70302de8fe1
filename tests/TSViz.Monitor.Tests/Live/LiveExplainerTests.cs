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
    /// top filters' own saliency.
    /// </summary>
    [Fact]
    public async Task ExplainAsync_DefaultSet_GivesWhatTheFixedCallsGave()
    {
        var settings = new MonitorOptions();
        var live = await Explainer(settings).ExplainAsync(values, Windows, alerting, CancellationToken.None);

        var explainer = model.Explainer;
        int size = model.Metadata.Channels.Count * model.Metadata.WindowLength;
        var explanations = explainer.Explain(values, Windows, new ExplainOptions { IncludeReceivedSaliency = false });
        var fgsm = explainer.Fgsm(values, Windows, settings.RobustnessEpsilon);
        int[] chosen = [1, 4];
        var subset = chosen.SelectMany(i => values.AsSpan(i * size, size).ToArray()).ToArray();
        var flips = explainer.SmallestFlippingEpsilon(subset, chosen.Length, new FlipSearchOptions { EpsilonMax = settings.AlertEpsilonMax });
        for (int i = 0; i < Windows; i++)
        {
            Assert.Equal(Json(explanations[i]), Json(live[i].Explanation));
            Assert.Equal(Json(fgsm[i]), Json(live[i].Fgsm));
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
        var expected = model.Explainer.Explain(values, Windows, new ExplainOptions { IncludeReceivedSaliency = false });
        for (int i = 0; i < Windows; i++)
        {
            Assert.Equal(Json(expected[i] with { Layers = [] }), Json(live[i].Explanation));
            Assert.Null(live[i].Fgsm);
            Assert.Null(live[i].Flip);
            Assert.Null(live[i].FilterSaliency);
        }
    }

    private LiveExplainer Explainer(MonitorOptions settings)
        => new(model, Options.Create(settings), new LiveMetrics(new CollectorRegistry(), model));

    private static string Json<T>(T value) => JsonSerializer.Serialize(value);
}
