using TSViz.Explain.Attribution;
using TSViz.Monitor.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

public sealed class LiveModelWarmUpTests
{
    [Fact]
    public void WarmUp_RunsEveryBatchSize_AndLeavesScoresAndExplanationsAsTheyWere()
    {
        using var model = new LiveModel(RepositoryPaths.AnomalyModel);
        int size = model.Metadata.Channels.Count * model.Metadata.WindowLength;
        var random = new Random(7);
        var windows = Enumerable.Range(0, 3 * size).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var options = new ExplainOptions { IncludeReceivedSaliency = false };

        var before = model.Explainer.Explain(windows, 3, options);
        var fgsmBefore = model.Explainer.Fgsm(windows, 3, 0.1);
        var took = model.WarmUp(12, 0.1);
        var after = model.Explainer.Explain(windows, 3, options);
        var fgsmAfter = model.Explainer.Fgsm(windows, 3, 0.1);

        Assert.True(took > TimeSpan.Zero);
        for (int w = 0; w < 3; w++)
        {
            Assert.Equal(before[w].Score, after[w].Score);
            Assert.Equal(before[w].SaliencyRaw, after[w].SaliencyRaw);
            Assert.Equal(before[w].Layers.Select(l => l.Influence), after[w].Layers.Select(l => l.Influence));
            Assert.Equal(fgsmBefore[w].ScoreAfter, fgsmAfter[w].ScoreAfter);
        }
    }
}
