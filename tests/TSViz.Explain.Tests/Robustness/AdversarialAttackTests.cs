using TSViz.Explain.Data;
using TSViz.Explain.Graph;
using TSViz.Explain.Robustness;
using TSViz.Tests.Shared;
using static TorchSharp.torch;

namespace TSViz.Explain.Tests.Robustness;

public sealed class AdversarialAttackTests
{
    [Fact]
    public void Fgsm_MovesEveryValueByEpsInTheSignOfTheGradient()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var data = new AnomalyDatasetGenerator(8).Generate(32).Windows;
        const double eps = 0.07;
        var results = explainer.Fgsm(data.Values, 32, eps);

        for (int w = 0; w < 32; w++)
        {
            var r = results[w];
            var gradient = LogitGradient(explainer.Graph, r.Window);
            float direction = r.ScoreBefore >= explainer.Metadata.DecisionThreshold!.Value ? -1 : 1;
            for (int i = 0; i < r.Window.Length; i++)
            {
                float expected = (float)(eps * Math.Sign(direction * gradient[i]));
                Assert.Equal(r.Window[i] + expected, r.AdversarialWindow[i], 1e-6);
            }

            // Within 1e-6, not to 6 decimals: another test may switch oneDNN off between the two passes (its last bits differ).
            Assert.Equal(r.ScoreAfter, Rescore(explainer.Graph, r.AdversarialWindow), 1e-6);
        }
    }

    [Fact]
    public void IterativeFgsm_NeverLeavesTheEpsBox_AndLowersAnomalousScores()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var data = new AnomalyDatasetGenerator(9).Generate(200);
        var options = new IterativeFgsmOptions { Epsilon = 0.1, Alpha = 0.03, Steps = 25 };
        var results = explainer.IterativeFgsm(data.Windows.Values, 200, options);

        Assert.All(results, r => Assert.True(r.MaxPerturbation <= 0.1 + 1e-6, $"moved {r.MaxPerturbation}"));
        var anomalous = results.Where(r => r.ScoreBefore >= 0.5).ToList();
        Assert.NotEmpty(anomalous);
        Assert.All(anomalous, r => Assert.True(r.ScoreAfter <= r.ScoreBefore));
        Assert.All(results.Where(r => r.ScoreBefore < 0.5), r => Assert.True(r.ScoreAfter >= r.ScoreBefore));
        Assert.All(results, r => Assert.Equal(r.ScoreBefore >= 0.5 != r.ScoreAfter >= 0.5, r.Flipped));
    }

    [Fact]
    public void IterativeFgsm_PaperSetting_ReducesAConfidentAnomaly()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var data = new AnomalyDatasetGenerator(10).Generate(60);
        int index = Enumerable.Range(0, 60).First(i => data.Spikes[i].IsAnomaly);
        var window = data.Windows.Window(index).ToArray();
        var result = explainer.IterativeFgsm(window, 1, IterativeFgsmOptions.Paper)[0];
        Assert.Equal(1000, result.Steps);
        Assert.True(result.ScoreAfter < result.ScoreBefore, $"{result.ScoreBefore} -> {result.ScoreAfter}");
        Assert.True(result.MaxPerturbation <= 0.1 + 1e-6);
    }

    [Fact]
    public void SmallestFlippingEpsilon_FlippedWindowsCrossTheThresholdAndOthersSayUpToWhat()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var data = new AnomalyDatasetGenerator(11).Generate(64).Windows;
        var options = new FlipSearchOptions { EpsilonMax = 0.4, Tolerance = 0.01, Steps = 5 };
        var results = explainer.SmallestFlippingEpsilon(data.Values, 64, options);

        Assert.Contains(results, r => r.SmallestFlippingEpsilon is not null);
        foreach (var r in results)
        {
            bool after = r.ScoreAtEpsilon >= 0.5;
            if (r.SmallestFlippingEpsilon is double eps)
            {
                Assert.InRange(eps, 0, 0.4);
                Assert.Null(r.NotFlippedUpTo);
                Assert.NotEqual(r.Decision, after);
            }
            else
            {
                Assert.Equal(0.4, r.NotFlippedUpTo);
                Assert.Equal(r.Decision, after);
            }
        }

        // Where the search says eps flips, the attack at that eps does flip; a quarter of it does not for most.
        var flipped = Enumerable.Range(0, 64).Where(i => results[i].SmallestFlippingEpsilon is not null).ToList();
        foreach (int i in flipped.Take(8))
        {
            double eps = results[i].SmallestFlippingEpsilon!.Value;
            var window = data.Window(i).ToArray();
            var at = explainer.IterativeFgsm(window, 1, new IterativeFgsmOptions { Epsilon = eps, Alpha = 2.5 * eps / 5, Steps = 5 })[0];
            Assert.True(at.Flipped, $"window {i}: eps {eps} did not flip ({at.ScoreBefore} -> {at.ScoreAfter})");
        }
    }

    [Fact]
    public void SmallestFlippingEpsilon_ModelWithoutThreshold_IsRefused()
    {
        using var explainer = Explainer.Load(RepositoryPaths.TrafficModel);
        var error = Assert.Throws<InvalidOperationException>(() => explainer.SmallestFlippingEpsilon(new float[100], 1));
        Assert.Contains("threshold", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fgsm_Forecaster_PushesTheForecastUp()
    {
        using var explainer = Explainer.Load(RepositoryPaths.TrafficModel);
        var windows = Enumerable.Range(0, 8 * 100).Select(i => (float)Math.Sin(i / 7.0)).ToArray();
        var results = explainer.Fgsm(windows, 8, 0.05);
        Assert.All(results, r => Assert.Null(r.Flipped));
        Assert.All(results, r => Assert.True(r.ScoreAfter > r.ScoreBefore));
    }

    private static float[] LogitGradient(OnnxGraph graph, float[] modelInput)
    {
        using var scope = NewDisposeScope();
        var x = tensor(modelInput, [1, 3, 50]).requires_grad_(true);
        var logit = graph.Run(x)["logit"].sum();
        return autograd.grad([logit], [x])[0].data<float>().ToArray();
    }

    private static float Rescore(OnnxGraph graph, float[] modelInput)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return graph.Forward(tensor(modelInput, [1, 3, 50])).item<float>();
    }
}
