using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using TSViz.Explain.Graph;
using TSViz.Tests.Shared;
using static TorchSharp.torch;

namespace TSViz.Explain.Tests.Attribution;

public sealed class SaliencyAndInfluenceTests
{
    [Fact]
    public void Explain_LinearModel_GivesHandDerivedSaliencyAndInfluence()
    {
        float[] v = [1, -2, 0.5f, 3];
        using var explainer = Explainer.Load(TinyModels.Linear(2, 0.5f, v));
        var result = explainer.Explain([0.3f, -1, 4, 2], 1)[0];

        Assert.Equal("value", result.Differentiated);
        Assert.Equal([2f, 4, 1, 6], result.SaliencyRaw);
        Assert.Equal([0.2f, 0.6f, 0f, 1f], result.Saliency, new ToleranceComparer(1e-6f));
        Assert.Null(result.SaliencyReceived); // no preprocessing: the received window is the model input
        Assert.Equal([1f], result.ChannelContributions);
        Assert.Equal(6.5f, Assert.Single(result.Layers).Influence.Single(), 5);
        // a = 2x + 0.5 = [1.1, -1.5, 8.5, 4.5]; y = 1.1 + 3 + 4.25 + 13.5
        Assert.Equal(21.85f, result.Score, 4);
        Assert.Equal(3, result.TopSteps[0].Step);
    }

    [Fact]
    public void FilterSaliency_LinearModel_IsTheFilterWeightEverywhere()
    {
        using var explainer = Explainer.Load(TinyModels.Linear(-2.5f, 0.5f, [1, -2, 0.5f, 3]));
        var map = Assert.Single(explainer.FilterSaliency([0.3f, -1, 4, 2], 1)[0]);
        Assert.Equal([2.5f, 2.5f, 2.5f, 2.5f], map.Saliency);
    }

    [Theory]
    [InlineData(GradientTarget.Logit)]
    [InlineData(GradientTarget.Output)]
    [InlineData(GradientTarget.Temperature)]
    public void Explain_SmoothModel_SaliencyMatchesCentralDifferences(GradientTarget target)
    {
        string path = TinyModels.Smooth(4);
        using var explainer = Explainer.Load(path);
        var windows = TinyModels.RandomWindows(8, 3, 2, 16);
        var results = explainer.Explain(windows, 3, new ExplainOptions { Target = target, Temperature = 1.3 });

        using var graph = OnnxGraph.Load(path);
        for (int w = 0; w < 3; w++)
        {
            var window = windows.AsSpan(w * 32, 32).ToArray();
            var modelInput = (float[])window.Clone();
            WindowPreprocessing.ZScoreInPlace(modelInput, 2, 16);
            var received = results[w].SaliencyReceived!;
            float scale = results[w].SaliencyRaw.Max();
            float receivedScale = received.Max();
            for (int i = 0; i < 32; i++)
            {
                double numeric = CentralDifference(graph, modelInput, i, target, preprocess: false);
                Assert.True(Math.Abs(Math.Abs(numeric) - results[w].SaliencyRaw[i]) <= (2e-3 * scale) + 1e-6,
                    $"window {w} input {i}: autograd {results[w].SaliencyRaw[i]}, central differences {numeric}");

                double numericReceived = CentralDifference(graph, window, i, target, preprocess: true);
                Assert.True(Math.Abs(Math.Abs(numericReceived) - received[i]) <= (2e-3 * receivedScale) + 1e-6,
                    $"window {w} received input {i}: autograd {received[i]}, central differences {numericReceived}");
            }
        }
    }

    [Fact]
    public void Explain_ChannelTheModelCannotSee_GetsZeroSaliency()
    {
        string path = TinyModels.ReferenceCnn(5, m => m.get_parameter("conv1.weight")!.narrow(1, 0, 1).zero_());
        using var explainer = Explainer.Load(path);
        var results = explainer.Explain(TinyModels.RandomWindows(2, 8, 3, 50), 8);
        foreach (var r in results)
        {
            Assert.All(r.SaliencyRaw.Take(50), s => Assert.Equal(0f, s));
            Assert.All(r.SaliencyReceived!.Take(50), s => Assert.Equal(0f, s));
            Assert.Equal(0f, r.ChannelContributions[0]);
            Assert.True(r.SaliencyRaw.Skip(50).Max() > 0);
        }
    }

    [Fact]
    public void Explain_FilterWhoseOutgoingWeightsAreZero_GetsZeroInfluence()
    {
        // Filter 5 of conv1 feeds nothing: conv2's weights on input channel 5 are zero.
        string path = TinyModels.ReferenceCnn(6, m => m.get_parameter("conv2.weight")!.narrow(1, 5, 1).zero_());
        using var explainer = Explainer.Load(path);
        foreach (var r in explainer.Explain(TinyModels.RandomWindows(3, 8, 3, 50), 8))
        {
            var conv1 = r.Layers[0];
            Assert.Equal(0f, conv1.Influence[5]);
            Assert.Equal(0f, conv1.Scaled[5]);
            Assert.True(conv1.Influence.Max() > 0);
        }
    }

    [Fact]
    public void Explain_ReferenceModel_SharesSumToOneAndLayersAreComplete()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var windows = new AnomalyDatasetGenerator(12).Generate(64).Windows;
        var results = explainer.Explain(windows.Values, 64, new ExplainOptions { IncludeActivations = true, TopSteps = 7 });
        foreach (var r in results)
        {
            Assert.Equal("logit", r.Differentiated);
            Assert.Equal(1f, r.ChannelContributions.Sum(), 5);
            Assert.Equal(1f, r.Saliency.Max(), 6);
            Assert.Equal(7, r.TopSteps.Count);
            Assert.Equal([16, 32, 64], r.Layers.Select(l => l.Influence.Length));
            Assert.Equal([16 * 48, 32 * 22, 64 * 9], r.Layers.Select(l => l.Activations!.Length));
            Assert.All(r.Layers, l => Assert.Equal(l.Influence.Length, l.Ranking.Distinct().Count()));
        }

        // Scores agree with the explainer's own forward pass (and that with ONNX Runtime, see the graph tests).
        Assert.Equal(explainer.Score(windows.Values, 64), results.Select(r => r.Score).ToArray(), new ToleranceComparer(1e-6f));
    }

    [Fact]
    public void Explain_ShippedAnomalyModel_PeaksOnTheSpikeAndIgnoresPressure()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        double threshold = explainer.Metadata.DecisionThreshold!.Value;
        var data = new AnomalyDatasetGenerator(4242).Generate(4_000);
        var results = explainer.Explain(data.Windows.Values, data.Windows.Count);

        int truePositives = 0, hits = 0;
        var shareSums = new double[3];
        for (int w = 0; w < results.Length; w++)
        {
            for (int c = 0; c < 3; c++)
            {
                shareSums[c] += results[w].ChannelContributions[c];
            }

            var spike = data.Spikes[w];
            if (!spike.IsAnomaly || results[w].Score < threshold)
            {
                continue;
            }

            truePositives++;
            var peak = results[w].TopSteps[0];
            if (peak.Channel == spike.Channel && Math.Abs(peak.Step - spike.Step) <= 1)
            {
                hits++;
            }
        }

        Assert.True(truePositives > 400, $"only {truePositives} true positives");
        Assert.True(hits >= 0.95 * truePositives, $"saliency peak on the spike for {hits} of {truePositives} true positives");
        Assert.True(shareSums[0] < shareSums[1] && shareSums[0] < shareSums[2], $"mean shares {string.Join(", ", shareSums.Select(s => s / results.Length))}");
        Assert.DoesNotContain(results, r => r.GradientsVanished);
    }

    [Fact]
    public void Explain_ProbabilityGradient_OnSaturatedWindows_IsFlaggedNotBlank()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var data = new AnomalyDatasetGenerator(99).Generate(1_000).Windows;
        var results = explainer.Explain(data.Values, data.Count, new ExplainOptions { Target = GradientTarget.Output });

        Assert.All(results, r => Assert.Equal("probability", r.Differentiated));
        var vanished = results.Where(r => r.GradientsVanished).ToList();
        Assert.NotEmpty(vanished); // Proposition 1: confident windows lose every gradient in float32
        Assert.All(vanished, r => Assert.True(r.OutputSaturated));
        Assert.All(vanished, r => Assert.All(r.SaliencyRaw, s => Assert.Equal(0f, s)));
        Assert.All(results.Where(r => !r.GradientsVanished), r => Assert.True(r.SaliencyRaw.Max() > 0));
    }

    [Fact]
    public void FilterSaliency_Batched_EqualsOneBackwardPassPerFilter()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var windows = new AnomalyDatasetGenerator(31).Generate(3).Windows;
        var batched = explainer.FilterSaliency(windows.Values, 3);
        var loop = explainer.FilterSaliencyOnePassPerFilter(windows.Values, 3);
        for (int w = 0; w < 3; w++)
        {
            Assert.Equal(112, batched[w].Length);
            for (int f = 0; f < 112; f++)
            {
                Assert.Equal(loop[w][f].Layer, batched[w][f].Layer);
                Assert.Equal(loop[w][f].Filter, batched[w][f].Filter);
                Assert.Equal(loop[w][f].Saliency, batched[w][f].Saliency, new ToleranceComparer(1e-5f));
            }
        }

        Assert.Contains(batched[0], m => m.Saliency.Max() > 0);
    }

    [Fact]
    public void FilterSaliency_UnknownLayerOrFilter_ListsWhatExists()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var window = new AnomalyDatasetGenerator(1).Generate(1).Windows.Values;
        var layerError = Assert.Throws<ArgumentException>(() => explainer.FilterSaliency(window, 1, new Dictionary<string, int[]> { ["conv9"] = [0] }));
        Assert.Contains("conv1 (16 filters)", layerError.Message, StringComparison.Ordinal);
        var filterError = Assert.Throws<ArgumentOutOfRangeException>(() => explainer.FilterSaliency(window, 1, new Dictionary<string, int[]> { ["conv2"] = [32] }));
        Assert.Contains("0..31", filterError.Message, StringComparison.Ordinal);
    }

    private static double CentralDifference(OnnxGraph graph, float[] window, int index, GradientTarget target, bool preprocess)
    {
        const float h = 1e-2f;
        double Evaluate(float delta)
        {
            var shifted = (float[])window.Clone();
            shifted[index] += delta;
            if (preprocess)
            {
                WindowPreprocessing.ZScoreInPlace(shifted, 2, 16);
            }

            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var values = graph.Run(tensor(shifted, [1, 2, 16]));
            double logit = values["logit"].item<float>();
            return target switch
            {
                GradientTarget.Logit => logit,
                GradientTarget.Temperature => 1 / (1 + Math.Exp(-logit / 1.3)),
                _ => 1 / (1 + Math.Exp(-logit)),
            };
        }

        return (Evaluate(h) - Evaluate(-h)) / (2 * h);
    }
}

internal sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

    public int GetHashCode(float obj) => 0;
}
