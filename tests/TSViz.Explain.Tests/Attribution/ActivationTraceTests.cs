using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using TSViz.Tests.Shared;

namespace TSViz.Explain.Tests.Attribution;

public sealed class ActivationTraceTests
{
    [Fact]
    public void Trace_PooledModel_FollowsOnlyTheMaximaDownToTheInput()
    {
        // x = [0, 0, 5, 0, 1, 3, 0, 0]
        // conv1 f0 = x[t] + x[t+1]  = [0, 5, 5, 1, 4, 3, 0]; f1 = 2x[t] + x[t+1] = [0, 5, 10, 1, 5, 6, 0]
        // pooled (pairs 0-1, 2-3, 4-5): f0 maxima at steps 1, 2, 4; f1 maxima at steps 1, 2, 5
        // conv2 step 1 reads pooled positions 1 and 2 of both filters: conv1 f0 steps 2, 4 and f1 steps 2, 5;
        // those read input steps {2, 3}, {4, 5}, {2, 3}, {5, 6}.
        using var explainer = Explainer.Load(TinyModels.Pooled());
        var trace = explainer.Trace([0, 0, 5, 0, 1, 3, 0, 0], "conv2", 0, 1);

        Assert.Equal(5 + 4 + 10 + 6, trace.Activation, 4);
        Assert.Equal(["conv1", "input"], trace.Levels.Select(l => l.Level));
        var conv1 = trace.Levels[0];
        Assert.Equal((2, 7), (conv1.Rows, conv1.Length));
        Assert.Equal([(0, 2), (0, 4), (1, 2), (1, 5)], conv1.Points.Select(p => (p.Row, p.Step)));
        Assert.All(conv1.Points, p => Assert.Equal(1f, p.Weight));
        var input = trace.Levels[1];
        Assert.Equal([2, 3, 4, 5, 6], input.Points.Select(p => p.Step));
        // d/dx: x2 = 1 + 2, x3 = 1 + 1, x4 = 1, x5 = 1 + 2, x6 = 1; scaled by the largest (3)
        Assert.Equal([1f, 2f / 3, 1f / 3, 1f, 1f / 3], input.Points.Select(p => p.Weight), new ToleranceComparer(1e-6f));
    }

    [Fact]
    public void Trace_FirstLayer_HasOnlyTheInputLevel()
    {
        using var explainer = Explainer.Load(TinyModels.Pooled());
        var trace = explainer.Trace([0, 0, 5, 0, 1, 3, 0, 0], "conv1", 1, 4);
        Assert.Equal(5, trace.Activation, 5);
        var input = Assert.Single(trace.Levels);
        Assert.Equal([(0, 4, 1f), (0, 5, 0.5f)], input.Points.Select(p => (p.Row, p.Step, p.Weight)));
    }

    [Fact]
    public void Trace_ShippedModel_StaysInTheReceptiveFieldAndTakesOneOfEachPooledPair()
    {
        // Reference anomaly CNN: conv k3 (48) -> pool 2 -> conv k3 (22) -> pool 2 -> conv k3 (9), LeakyReLU.
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var window = TinyModels.RandomWindows(21, 1, 3, 50);
        const int t = 3;
        var trace = explainer.Trace(window, "conv3", 7, t);

        var conv2 = trace.Levels.Single(l => l.Level == "conv2");
        // conv3 step t reads pooled conv2 positions t..t+2, each the max of conv2 steps 2u, 2u+1: exactly one per filter and position.
        for (int f = 0; f < conv2.Rows; f++)
        {
            var steps = conv2.Points.Where(p => p.Row == f).Select(p => p.Step).ToList();
            Assert.Equal(3, steps.Count);
            for (int u = t; u <= t + 2; u++)
            {
                Assert.Single(steps, s => s / 2 == u);
            }
        }

        var conv1 = trace.Levels.Single(l => l.Level == "conv1");
        // conv2 steps 2t..2t+5 read pooled conv1 positions 2t..2t+7, i.e. conv1 steps 4t..4t+15.
        Assert.All(conv1.Points, p => Assert.InRange(p.Step, 4 * t, (4 * t) + 15));
        Assert.All(conv1.Points.GroupBy(p => (p.Row, p.Step / 2)), pair => Assert.Single(pair));

        var input = trace.Levels[^1];
        Assert.Equal("input", input.Level);
        Assert.Equal(3, input.Rows);
        Assert.All(input.Points, p => Assert.InRange(p.Step, 4 * t, (4 * t) + 17));
        Assert.Equal(3, input.Points.Select(p => p.Row).Distinct().Count());
        Assert.Equal(1f, input.Points.Max(p => p.Weight));
    }

    [Fact]
    public void Trace_UnknownLayerFilterOrStep_IsNamed()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var window = TinyModels.RandomWindows(2, 1, 3, 50);
        Assert.Contains("conv9", Assert.Throws<ArgumentException>(() => explainer.Trace(window, "conv9", 0, 0)).Message, StringComparison.Ordinal);
        Assert.Equal("filter", Assert.Throws<ArgumentOutOfRangeException>(() => explainer.Trace(window, "conv1", 16, 0)).ParamName);
        Assert.Equal("step", Assert.Throws<ArgumentOutOfRangeException>(() => explainer.Trace(window, "conv3", 0, 9)).ParamName);
    }
}
