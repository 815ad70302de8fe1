using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using TSViz.Explain.Evaluation;
using TSViz.Explain.Tests.Attribution;
using TSViz.Tests.Shared;

namespace TSViz.Explain.Tests.Evaluation;

/// <summary>
/// The evaluation of input attributions on models whose answers follow by hand: on a linear model the gradient is
/// the model's exact linear response (infidelity 0, max-sensitivity 0) and its deletion and insertion curves are
/// sums of known terms; the signed gradient path and the method names with their aliases.
/// </summary>
public sealed class AttributionEvaluationTests
{
    // y = sum_t v_t (3 x_t + 0.1): dy/dx_t = 3 v_t = [1.5, -3, 6, 0.75], so |A| ranks the cells 2, 1, 0, 3.
    private static readonly float[] V = [0.5f, -1f, 2f, 0.25f];
    private static readonly float[] X = [1f, 2f, -0.5f, 4f];

    [Fact]
    public void Gradient_LinearModel_IsTheSignedWeight()
    {
        using var explainer = Explainer.Load(TinyModels.Linear(3f, 0.1f, V));

        var gradient = AttributionSaliency.Compute(AttributionSaliency.Gradient, explainer, X, 1, new ExplainOptions())[0];

        Assert.Equal([1.5f, -3f, 6f, 0.75f], gradient.Attribution, new ToleranceComparer(1e-5f));
        Assert.Equal(AttributionSaliency.Gradient, gradient.Method);
        Assert.True(double.IsNaN(gradient.CompletenessGap));
        Assert.Equal(-4.325, gradient.Explained, 4);
    }

    [Fact]
    public void Run_LinearModelGradient_DeletionAndInsertionCurvesAreTheHandSums()
    {
        // y(x) = 1.55 - 6.1 - 2.8 + 3.025 = -4.325 and y(0) = 0.1 * sum v = 0.175, so s = sign(y(x) - y(0)) = -1.
        // Deletion: cell 2 (x = -0.5) removed adds -6 * -0.5 = 3: y = -1.325; then cell 1 (x = 2) adds 6: y = 4.675.
        // Insertion from all zeros: 0.175, + 6 * -0.5 = -2.825, + (-3) * 2 = -8.825.
        using var explainer = Explainer.Load(TinyModels.Linear(3f, 0.1f, V));
        var options = new AttributionEvaluationOptions { Fractions = [0, 0.25, 0.5], RandomOrders = 2, InfidelitySamples = 4, SensitivitySamples = 3 };

        var result = AttributionEvaluation.Run(explainer, X, 1, [AttributionSaliency.Gradient], options: options);

        var gradient = Assert.Single(result.Methods);
        Assert.Equal([4.325, 1.325, -4.675], gradient.Deletion.Values, new DoubleTolerance(1e-4));
        Assert.Equal([-0.175, 2.825, 8.825], gradient.Insertion.Values, new DoubleTolerance(1e-4));
        // Trapezoids over [0, 0.5], divided by 0.5.
        Assert.Equal(((0.25 * (4.325 + 1.325) / 2) + (0.25 * (1.325 - 4.675) / 2)) / 0.5, gradient.Deletion.Area, 4);
        Assert.Equal(((0.25 * (-0.175 + 2.825) / 2) + (0.25 * (2.825 + 8.825) / 2)) / 0.5, gradient.Insertion.Area, 4);
        Assert.Equal("value", result.Explained);
        Assert.True(gradient.WindowsPerSecond > 0);
        Assert.Null(gradient.GroundTruth);
        Assert.Equal("random", result.Random.Method);
        Assert.Equal(4.325, result.Random.Deletion.Values[0], 4);
    }

    [Fact]
    public void Run_LinearModelGradient_InfidelityAndMaxSensitivityAreZero()
    {
        // Captum's infidelity: I . dy/dx = y(x) - y(x - I) exactly for a linear y; its gradient does not move with x.
        using var explainer = Explainer.Load(TinyModels.Linear(3f, 0.1f, V));
        float[] windows = [.. X, .. X.Select(x => -2 * x)];

        var result = AttributionEvaluation.Run(explainer, windows, 2, [AttributionSaliency.Gradient, AttributionSaliency.GradientTimesInput]);

        var gradient = result.Methods[0];
        Assert.Equal(0, gradient.Infidelity, 6);
        Assert.Equal(0, gradient.InfidelityNormalized, 6);
        Assert.Equal(0, gradient.MaxSensitivity, 6);
        // Gradient x input is complete from 0 on a linear model: sum_t 3 v_t x_t = y(x) - y(0).
        Assert.Equal(0, result.Methods[1].CompletenessGap, 4);
        Assert.True(result.Methods[1].Infidelity > 1e-3, "x * dy/dx is not the linear response to a small perturbation");
    }

    [Fact]
    public void Run_PlantedSpikes_GroundTruthCountsOnlyFlaggedSpikes()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var data = new AnomalyDatasetGenerator(5).Generate(48);
        var options = new AttributionEvaluationOptions { InfidelitySamples = 2, SensitivitySamples = 2 };

        var result = AttributionEvaluation.Run(explainer, data.Windows.Values, 48, [AttributionSaliency.GradientTimesInput], data.Spikes, options);

        var truth = result.Methods[0].GroundTruth!;
        Assert.InRange(truth.TruePositives, 1, data.Spikes.Count(s => s.IsAnomaly));
        Assert.InRange(truth.PointingExact, 0.0, truth.PointingWithinOneStep);
        Assert.InRange(truth.AveragePrecision, truth.PointingExact, 1.0);
        Assert.Equal("logit", result.Explained);
    }

    [Theory]
    [InlineData("ig", "integrated-gradients")]
    [InlineData("GXI", "gradient-x-input")]
    [InlineData("sg", "smoothgrad")]
    [InlineData("grad", "gradient")]
    [InlineData("occ", "occlusion")]
    [InlineData(" Integrated-Gradients ", "integrated-gradients")]
    public void Parse_AliasOrFullName_GivesTheFullName(string name, string expected)
        => Assert.Equal(expected, AttributionMethodName.Parse(name));

    [Fact]
    public void ParseList_UnknownName_NamesItAndListsTheValidOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => AttributionMethodName.ParseList("ig,lime"));
        Assert.Contains("'lime'", error.Message, StringComparison.Ordinal);
        Assert.Contains("integrated-gradients (ig)", error.Message, StringComparison.Ordinal);
        Assert.Equal(["integrated-gradients", "gradient"], AttributionMethodName.ParseList("ig, gradient, ig"));
    }
}

internal sealed class DoubleTolerance(double tolerance) : IEqualityComparer<double>
{
    public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

    public int GetHashCode(double obj) => 0;
}
