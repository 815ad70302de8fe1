using TSViz.Explain.Inversion;
using TSViz.Tests.Shared;

namespace TSViz.Explain.Tests.Inversion;

public sealed class InverseOptimizationTests
{
    [Fact]
    public void Invert_AnomalyModelTowardsOne_ReachesAnAnomalyFromASeededStart()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var options = new InverseOptions { Target = 1, Steps = 1000, Alpha = 0.01, Seed = 3, Starts = 2 };
        var results = explainer.Invert(options);
        var again = explainer.Invert(options);

        Assert.Equal(2, results.Length);
        foreach (var r in results)
        {
            Assert.Equal(1001, r.ScoreTrajectory.Length);
            Assert.True(r.ScoreTrajectory[^1] > 0.9, $"{r.ScoreTrajectory[0]} -> {r.ScoreTrajectory[^1]}");
            Assert.True(r.ScoreTrajectory[^1] > r.ScoreTrajectory[0]);
            Assert.Equal(150, r.Optimised.Length);
        }

        Assert.Equal(results[0].Optimised, again[0].Optimised);
        Assert.NotEqual(results[0].Initial, results[1].Initial);
    }

    [Fact]
    public void Invert_ForecasterToAValue_ReachesIt()
    {
        using var explainer = Explainer.Load(RepositoryPaths.TrafficModel);
        var result = explainer.Invert(new InverseOptions { Target = 1.5, Steps = 1000, Alpha = 0.01, Seed = 5 })[0];
        Assert.InRange(result.ScoreTrajectory[^1], 1.45, 1.55);
    }

    [Fact]
    public void Invert_ProbabilityTargetOutsideZeroOne_IsRefused()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        Assert.Throws<ArgumentOutOfRangeException>(() => explainer.Invert(new InverseOptions { Target = 2 }));
    }
}
