using TSViz.Explain.Counterfactuals;
using TSViz.Explain.Data;
using TSViz.Explain.Graph;
using TSViz.Tests.Shared;
using Xunit.Abstractions;

namespace TSViz.Explain.Tests.Counterfactuals;

public sealed class SparseCounterfactualTests(ITestOutputHelper output)
{

    [Fact]
    public void ZScoreChain_MatchesCentralDifferencesOfASmoothFunctionOfTheZScoredChannel()
    {
        // f(x) = sum a_t x_t + b_t x_t^2 of the z-scored channel x = (r - mean r) / std r, in double precision: the chain
        // rule alone, where the model's kinks (ReLU, max-pooling) cannot blur central differences.
        var random = new Random(7);
        const int length = 50;
        var a = Enumerable.Range(0, length).Select(_ => random.NextDouble() - 0.5).ToArray();
        var b = Enumerable.Range(0, length).Select(_ => random.NextDouble() - 0.5).ToArray();
        var r = Enumerable.Range(0, length).Select(t => (float)(80 + Math.Sin(t / 5.0) + (t == 31 ? 6 : 0))).ToArray();
        double F(double[] received)
        {
            double mean = received.Average();
            double std = Math.Sqrt(received.Select(v => (v - mean) * (v - mean)).Average());
            return Enumerable.Range(0, length).Sum(t => (a[t] * ((received[t] - mean) / std)) + (b[t] * Math.Pow((received[t] - mean) / std, 2)));
        }

        var x = r.ToArray();
        WindowPreprocessing.ZScoreInPlace(x, 1, length);
        var g = Enumerable.Range(0, length).Select(t => (float)(a[t] + (2 * b[t] * x[t]))).ToArray();
        SparseCounterfactual.ZScoreChain(r, x, g);
        for (int j = 0; j < length; j++)
        {
            var up = r.Select(v => (double)v).ToArray();
            var down = r.Select(v => (double)v).ToArray();
            up[j] += 1e-5;
            down[j] -= 1e-5;
            double numeric = (F(up) - F(down)) / 2e-5;
            Assert.True(Math.Abs(numeric - g[j]) <= 1e-4 * Math.Max(1, Math.Abs(numeric)), $"cell {j}: chain rule {g[j]}, central difference {numeric}");
        }
    }

    [Theory]
    [InlineData(ExplainerKernels.Auto)]
    [InlineData(ExplainerKernels.TorchSharp)]
    public void ReceivedGradient_MatchesTheLogitsCentralDifferenceAlongIt(ExplainerKernels kernels)
    {
        // On the model itself, along the gradient's own direction (the direction the search moves in): the change
        // spreads over every cell, so a ReLU or max-pooling kink at one cell does not dominate the difference.
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel, parallelism: 1, kernels: kernels);
        var data = new AnomalyDatasetGenerator(31).Generate(8).Windows;
        int size = data.Channels * data.Length;
        int close = 0;
        for (int w = 0; w < 8; w++)
        {
            var window = data.Window(w).ToArray();
            var (_, _, gradient) = SparseCounterfactual.ScoresAndReceivedGradients(explainer, window, 1);
            double norm = Math.Sqrt(gradient.Sum(v => (double)v * v));
            const double h = 1e-3;
            var batch = new float[2 * size];
            for (int j = 0; j < size; j++)
            {
                batch[j] = (float)(window[j] + (h * gradient[j] / norm));
                batch[size + j] = (float)(window[j] - (h * gradient[j] / norm));
            }

            var logits = explainer.EvaluateModelSpace(explainer.ToModelSpace(batch, 2), 2, GradientTarget.Auto);
            double numeric = (logits[0] - logits[1]) / (2 * h);
            output.WriteLine($"window {w}: |g| {norm:F5}, central difference along g {numeric:F5}");
            // The logit is piecewise linear (ReLU, max-pooling): within a linear piece the two agree to float rounding;
            // a window whose +-h segment crosses a kink may differ by a few percent, never by a wrong chain rule's tens.
            Assert.True(Math.Abs(numeric - norm) <= 0.05 * norm, $"window {w}: |g| = {norm}, the logit's central difference along g = {numeric}");
            close += Math.Abs(numeric - norm) <= 0.005 * norm ? 1 : 0;
        }

        Assert.True(close >= 6, $"only {close} of 8 windows agree within 0.5 % (float rounding of the logits at h = 1e-3)");
    }

    [Fact]
    public void AnomalousWindows_GetASparseChangeOfTheSalientCellsThatScoresBelowTheLevel()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel, parallelism: 1);
        using var reference = Explainer.Load(RepositoryPaths.AnomalyModel, parallelism: 1, kernels: ExplainerKernels.TorchSharp);
        var data = new AnomalyDatasetGenerator(32).Generate(160);
        int size = data.Windows.Channels * data.Windows.Length;
        var scores = explainer.Score(data.Windows.Values, 160);
        var flagged = Enumerable.Range(0, 160).Where(i => scores[i] >= 0.5).ToArray();
        Assert.True(flagged.Length >= 10, $"only {flagged.Length} windows flagged");
        var method = new SparseCounterfactual(explainer);
        var options = new CounterfactualOptions { Below = 0.4 };
        int found = 0, atSpike = 0, cells = 0;
        foreach (int i in flagged)
        {
            var window = data.Windows.Window(i).ToArray();
            var result = method.Explain(WindowBatch.One(window), options)[0];
            Assert.Equal(0.4, result.Below);
            Assert.Equal(scores[i], result.ScoreBefore);
            if (!result.Found)
            {
                Assert.Empty(result.Changes);
                Assert.Equal(window, result.Window);
                Assert.False(string.IsNullOrEmpty(result.Reason));
                continue;
            }

            found++;
            cells += result.Changes.Count;
            Assert.InRange(result.Changes.Count, 1, result.MaxCells);
            Assert.Equal(7, result.MaxCells); // 5 % of 150 cells
            // Only the listed cells differ, each from its received value to the listed one.
            var listed = result.Changes.ToDictionary(c => (c.Channel * data.Windows.Length) + c.Step);
            for (int j = 0; j < size; j++)
            {
                if (listed.TryGetValue(j, out var change))
                {
                    Assert.Equal(window[j], change.From);
                    Assert.Equal(change.To, result.Window[j]);
                    Assert.NotEqual(change.From, change.To);
                    Assert.Equal(AnomalyDatasetGenerator.ChannelNames[change.Channel], change.ChannelName);
                }
                else
                {
                    Assert.Equal(window[j], result.Window[j]);
                }
            }

            // Below the level on the general TorchSharp path too, not only on the kernels that searched.
            float rescored = reference.Score(result.Window, 1)[0];
            Assert.True(rescored < 0.4, $"window {i}: the counterfactual rescored {rescored} on the TorchSharp path");
            Assert.Equal(result.ScoreAfter, rescored, 1e-5);
            var spike = data.Spikes[i];
            if (spike.IsAnomaly && result.Changes.Any(c => c.Channel == spike.Channel && c.Step == spike.Step))
            {
                atSpike++;
            }
        }

        output.WriteLine($"{found} of {flagged.Length} flagged windows got a counterfactual, {cells / (double)Math.Max(1, found):0.0} cells each; {atSpike} change the planted spike's cell");
        Assert.True(found >= flagged.Length * 0.9, $"{found} of {flagged.Length} found");
        Assert.True(atSpike >= found * 0.8, $"only {atSpike} of {found} counterfactuals change the planted spike");
    }

    [Fact]
    public void ASaturatedScore_StillGuidesTheSearch_ThroughTheLogit()
    {
        // A spike five times the planted one: the score is 1 in float, so only the logit shows progress.
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel, parallelism: 1);
        var data = new AnomalyDatasetGenerator(36).Generate(40);
        int index = Enumerable.Range(0, 40).First(i => data.Spikes[i].IsAnomaly);
        var window = data.Windows.Window(index).ToArray();
        var spike = data.Spikes[index];
        int cell = (spike.Channel * data.Windows.Length) + spike.Step;
        float median = window.AsSpan(spike.Channel * data.Windows.Length, data.Windows.Length).ToArray().Order().ElementAt(data.Windows.Length / 2);
        window[cell] = median + (5 * (window[cell] - median));
        Assert.Equal(1f, explainer.Score(window, 1)[0]);

        var result = new SparseCounterfactual(explainer).Explain(WindowBatch.One(window), new CounterfactualOptions { Below = 0.3 })[0];
        Assert.True(result.Found, result.Reason);
        Assert.Contains(result.Changes, c => c.Channel == spike.Channel && c.Step == spike.Step);
        Assert.True(result.ScoreAfter < 0.3);
    }

    [Fact]
    public void AWindowAlreadyBelowTheLevel_IsFoundWithoutChanges()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel, parallelism: 1);
        var data = new AnomalyDatasetGenerator(33).Generate(40);
        var scores = explainer.Score(data.Windows.Values, 40);
        int normal = Array.FindIndex(scores, s => s < 0.1f);
        var window = data.Windows.Window(normal).ToArray();
        var result = new SparseCounterfactual(explainer).Explain(WindowBatch.One(window), new CounterfactualOptions { Below = 0.5 })[0];
        Assert.True(result.Found);
        Assert.Empty(result.Changes);
        Assert.Equal(window, result.Window);
        Assert.Contains("already", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ALevelNoChangeReaches_IsNotFoundWithWhy_AndTheWindowAsReceived()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel, parallelism: 1);
        var data = new AnomalyDatasetGenerator(34).Generate(40);
        var scores = explainer.Score(data.Windows.Values, 40);
        int flagged = Array.FindIndex(scores, s => s >= 0.9f);
        var window = data.Windows.Window(flagged).ToArray();
        // A sigmoid's score is never below 0: no change can reach it, so the budget is spent.
        var result = new SparseCounterfactual(explainer).Explain(WindowBatch.One(window), new CounterfactualOptions { Below = 0, Margin = 0, MaxCellFraction = 0.02 })[0];
        Assert.False(result.Found);
        Assert.Empty(result.Changes);
        Assert.Equal(window, result.Window);
        Assert.Equal(3, result.MaxCells);
        Assert.True(result.ScoreAfter < result.ScoreBefore, "the search lowered the score, if not below the level");
        Assert.Contains("3 of the window's 150 cells", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void BadCellFraction_IsRefusedNamingTheOption(double fraction)
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel, parallelism: 1);
        var window = new AnomalyDatasetGenerator(35).Generate(1).Windows.Window(0).ToArray();
        var error = Assert.Throws<ArgumentException>(() => new SparseCounterfactual(explainer).Explain(WindowBatch.One(window), new CounterfactualOptions { MaxCellFraction = fraction }));
        Assert.Contains("MaxCellFraction", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PlausibleRange_IsTheMedianPlusMinusRobustDeviations_WithinTheObservedValues()
    {
        float[] channel = [10, 10.5f, 9.5f, 10, 10, 30]; // one spike
        var (low, high) = SparseCounterfactual.PlausibleRange(channel, 3);
        // median 10, deviations 0,0,0,0.5,0.5,20: MAD 0.25, 3 x 1.4826 x 0.25 = 1.11195
        Assert.Equal(9.5f, low); // the observed minimum is above 10 - 1.112
        Assert.Equal(11.11195f, high, 4);
    }
}
