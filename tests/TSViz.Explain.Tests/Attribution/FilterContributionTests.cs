using TSViz.Explain.Attribution;
using TSViz.Explain.Onnx;
using TSViz.Explain.Pruning;

namespace TSViz.Explain.Tests.Attribution;

/// <summary>Filter contribution |sum_t a_j(t) dy/da_j(t)|: hand-derived, and exact where y is linear after the layer.</summary>
public sealed class FilterContributionTests
{
    private static readonly ExplainOptions WithContribution = new() { IncludeContribution = true, TopSteps = 0 };

    [Fact]
    public void Explain_LinearModel_ContributionIsHandDerivedAndIsTheChangeWhenZeroed()
    {
        float[] v = [1, -2, 0.5f, 3];
        string path = TinyModels.Linear(-2, 0.5f, v);
        var file = OnnxModelFile.Load(path);
        using var explainer = Explainer.FromFile(file);
        float[] x = [0.3f, -1, 4, 2];
        var result = explainer.Explain(x, 1, WithContribution)[0];

        // a = -2x + 0.5 = [-0.1, 2.5, -7.5, -3.5]; dy/da = v; sum_t a v = -0.1 - 5 - 3.75 - 10.5 = -19.35.
        var layer = Assert.Single(result.Layers);
        Assert.Equal(19.35f, Assert.Single(layer.Contribution!), 4);
        Assert.Equal(6.5f, layer.Influence.Single(), 5); // the gradient alone: sum_t |v_t|
        Assert.Equal(-19.35f, result.Score, 4);

        // Zeroing the filter takes y to the dense bias (0): the change is exactly the contribution.
        using var zeroed = Explainer.FromFile(ModelSurgery.ZeroFilters(file, explainer.Layers, [new FilterRef("conv1", 0)]));
        Assert.Equal(0f, zeroed.Score(x, 1)[0], 6);
    }

    [Fact]
    public void Explain_WithoutTheOption_HasNoContribution()
    {
        using var explainer = Explainer.Load(TinyModels.Linear(2, 0.5f, [1, 1]));
        Assert.Null(explainer.Explain([1f, 2], 1)[0].Layers[0].Contribution);
    }

    [Fact]
    public void Contribution_LayerFollowedOnlyByLinearMaps_EqualsTheLogitChangeWhenEachFilterIsZeroed()
    {
        // Smooth model: conv2 -> Elu -> flatten -> dense gives the logit, linear in conv2's activations (after the Elu),
        // and a zeroed conv2 filter has activation Elu(0) = 0: the first-order estimate is exact.
        var file = OnnxModelFile.Load(TinyModels.Smooth(11));
        using var explainer = Explainer.FromFile(file);
        const int windows = 6;
        var x = TinyModels.RandomWindows(12, windows, 2, 16);
        var results = explainer.Explain(x, windows, WithContribution);
        var conv2 = explainer.Layers.Single(l => l.Name == "conv2");
        for (int f = 0; f < conv2.Filters; f++)
        {
            using var zeroed = Explainer.FromFile(ModelSurgery.ZeroFilters(file, explainer.Layers, [new FilterRef("conv2", f)]));
            var after = zeroed.Explain(x, windows, new ExplainOptions { IncludeInfluence = false, TopSteps = 0 });
            for (int w = 0; w < windows; w++)
            {
                float change = Math.Abs(results[w].ExplainedValue - after[w].ExplainedValue);
                float contribution = results[w].Layers[1].Contribution![f];
                Assert.True(Math.Abs(change - contribution) <= 1e-5 + (1e-4 * change), $"filter {f} window {w}: logit change {change}, contribution {contribution}");
            }
        }

        // Not every filter contributes nothing: the test would pass vacuously otherwise.
        Assert.Contains(results, r => r.Layers[1].Contribution!.Max() > 0.01f);
    }
}
