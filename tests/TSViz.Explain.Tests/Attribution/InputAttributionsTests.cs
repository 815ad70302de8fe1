using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using TSViz.Tests.Shared;
using static TorchSharp.torch;

namespace TSViz.Explain.Tests.Attribution;

/// <summary>
/// Gradient x input and Integrated Gradients, logit explained: hand-derived values on a linear model; on a smooth
/// model gradient x input matches central differences of the model's own graph and IG is complete; on the shipped
/// anomaly model IG's completeness holds within a stated tolerance and its error shrinks with the steps.
/// </summary>
public sealed class InputAttributionsTests
{
    private const int Count = 16;

    [Fact]
    public void IntegratedGradients_256Steps_SumToTheChangeFromTheBaselineWithinOnePercentPlusATenthOfALogit()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var data = new AnomalyDatasetGenerator(11).Generate(Count).Windows;

        var results = InputAttributions.IntegratedGradients(explainer, data.Values, Count, new IntegratedGradientsOptions { Steps = 256 }, new ExplainOptions());

        Assert.All(results, r =>
        {
            double change = r.Explained - r.BaselineExplained;
            Assert.True(Math.Abs(r.CompletenessGap) <= (0.01 * Math.Abs(change)) + 0.1,
                $"sum of attributions {r.Attribution.Sum():F4} against y(x) - y(b) = {change:F4} (gap {r.CompletenessGap:F5})");
        });
    }

    [Fact]
    public void IntegratedGradients_MoreSteps_SmallerCompletenessGap()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var data = new AnomalyDatasetGenerator(12).Generate(Count).Windows;

        double Gap(int steps) => InputAttributions.IntegratedGradients(explainer, data.Values, Count, new IntegratedGradientsOptions { Steps = steps }, new ExplainOptions())
            .Average(r => Math.Abs(r.CompletenessGap));

        double coarse = Gap(2), fine = Gap(64);
        Assert.True(fine < coarse, $"mean |gap| {fine:F5} at 64 steps, {coarse:F5} at 2");
    }

    [Fact]
    public void LinearModel_BothMethods_GiveTheHandDerivedAttributions()
    {
        // y = sum_t v_t (w x_t + b): dy/dx_t = w v_t, so x_t w v_t for both methods (IG from 0 is exact on a linear y).
        float[] v = [0.5f, -1f, 2f, 0.25f];
        using var explainer = Explainer.Load(TinyModels.Linear(3f, 0.1f, v));
        float[] x = [1f, 2f, -0.5f, 4f];
        var product = InputAttributions.GradientTimesInput(explainer, x, 1, new ExplainOptions())[0];
        var integrated = InputAttributions.IntegratedGradients(explainer, x, 1, new IntegratedGradientsOptions { Steps = 3 }, new ExplainOptions())[0];

        float[] expected = [.. x.Select((value, t) => value * 3f * v[t])];
        Assert.Equal(expected, product.Attribution, new ToleranceComparer(1e-5f));
        Assert.Equal(expected, integrated.Attribution, new ToleranceComparer(1e-5f));
        Assert.Equal(0, integrated.CompletenessGap, 4);
        Assert.Equal(("gradient-x-input", "integrated-gradients"), (product.Method, integrated.Method));
    }

    [Fact]
    public void LinearModel_SmoothGradAndOcclusion_GiveTheHandDerivedAttributions()
    {
        // dy/dx_t = w v_t everywhere, whatever the noise; occluding step t alone (baseline 0) removes v_t w x_t.
        float[] v = [0.5f, -1f, 2f, 0.25f];
        using var explainer = Explainer.Load(TinyModels.Linear(3f, 0.1f, v));
        float[] x = [1f, 2f, -0.5f, 4f];
        var smooth = InputAttributions.SmoothGrad(explainer, x, 1, new SmoothGradOptions { Samples = 8, NoiseLevel = 0.5 }, new ExplainOptions())[0];
        var occluded = InputAttributions.Occlusion(explainer, x, 1, new OcclusionOptions { Width = 1 }, new ExplainOptions())[0];

        Assert.Equal([.. v.Select(value => 3f * value)], smooth.Attribution, new ToleranceComparer(1e-5f));
        Assert.Equal([.. x.Select((value, t) => value * 3f * v[t])], occluded.Attribution, new ToleranceComparer(1e-4f));
        Assert.Equal(0, occluded.CompletenessGap, 3); // linear: the single removals add up to removing everything
    }

    [Fact]
    public void Occlusion_WiderWindow_EachCellGetsTheMeanOfTheOcclusionsCoveringIt()
    {
        // Linear y: occluding steps s..s+1 removes the sum of their terms c_t = v_t w x_t. Step 0 is covered by the
        // occlusion at 0 only; step 1 by those at 0 and 1.
        float[] v = [0.5f, -1f, 2f, 0.25f];
        using var explainer = Explainer.Load(TinyModels.Linear(3f, 0.1f, v));
        float[] x = [1f, 2f, -0.5f, 4f];
        var c = x.Select((value, t) => value * 3f * v[t]).ToArray();

        var result = InputAttributions.Occlusion(explainer, x, 1, new OcclusionOptions { Width = 2 }, new ExplainOptions())[0];

        float[] expected = [c[0] + c[1], ((c[0] + c[1]) + (c[1] + c[2])) / 2, ((c[1] + c[2]) + (c[2] + c[3])) / 2, c[2] + c[3]];
        Assert.Equal(expected, result.Attribution, new ToleranceComparer(1e-4f));
    }

    [Fact]
    public void SaliencyPass_TimesInput_IsTheMagnitudeOfGradientTimesInput()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var data = new AnomalyDatasetGenerator(13).Generate(Count).Windows;
        var pass = explainer.Explain(data.Values, Count, new ExplainOptions { TimesInput = true });
        var product = InputAttributions.GradientTimesInput(explainer, data.Values, Count, new ExplainOptions());
        for (int w = 0; w < Count; w++)
        {
            Assert.Equal("gradient-x-input", pass[w].SaliencyMethod);
            Assert.Null(pass[w].SaliencyReceived);
            Assert.Equal(product[w].Attribution.Select(Math.Abs), pass[w].SaliencyRaw, new ToleranceComparer(1e-5f * (1 + pass[w].SaliencyRaw.Max())));
        }
    }

    [Fact]
    public void SmoothModel_SmoothGradWithoutNoise_IsTheGradient()
    {
        using var explainer = Explainer.Load(TinyModels.Smooth(6));
        var windows = TinyModels.RandomWindows(10, 2, 2, 16);
        var plain = InputAttributions.GradientTimesInput(explainer, windows, 2, new ExplainOptions());
        var smooth = InputAttributions.SmoothGrad(explainer, windows, 2, new SmoothGradOptions { NoiseLevel = 0, Samples = 3 }, new ExplainOptions());
        for (int w = 0; w < 2; w++)
        {
            for (int i = 0; i < 32; i++)
            {
                Assert.Equal(plain[w].Attribution[i], smooth[w].Attribution[i] * plain[w].ModelInput[i], 4);
            }
        }
    }

    [Fact]
    public void SmoothModel_GradientTimesInput_MatchesCentralDifferences_AndIntegratedGradientsAreComplete()
    {
        string path = TinyModels.Smooth(5);
        using var explainer = Explainer.Load(path);
        var windows = TinyModels.RandomWindows(9, 4, 2, 16);
        var products = InputAttributions.GradientTimesInput(explainer, windows, 4, new ExplainOptions());
        var integrated = InputAttributions.IntegratedGradients(explainer, windows, 4, new IntegratedGradientsOptions { Steps = 128 }, new ExplainOptions());
        for (int w = 0; w < 4; w++)
        {
            var r = products[w];
            for (int i = 0; i < 32; i++)
            {
                double numeric = CentralDifference(explainer, r.ModelInput, i) * r.ModelInput[i];
                Assert.True(Math.Abs(numeric - r.Attribution[i]) <= 2e-3 * (1 + Math.Abs(numeric)), $"window {w} cell {i}: x dy/dx {r.Attribution[i]} by autograd, {numeric} by central differences");
            }

            Assert.True(Math.Abs(integrated[w].CompletenessGap) <= 1e-3 * (1 + Math.Abs(integrated[w].Explained - integrated[w].BaselineExplained)),
                $"window {w}: gap {integrated[w].CompletenessGap}");
        }
    }

    /// <summary>d logit / d (model input cell <paramref name="cell"/>) by central differences on the model's own graph.</summary>
    private static double CentralDifference(Explainer explainer, float[] modelInput, int cell)
    {
        const float h = 1e-2f;
        double Evaluate(float delta)
        {
            var moved = (float[])modelInput.Clone();
            moved[cell] += delta;
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return explainer.Graph.Run(tensor(moved, [1, 2, 16]))["logit"].item<float>();
        }

        return (Evaluate(h) - Evaluate(-h)) / (2 * h);
    }
}
