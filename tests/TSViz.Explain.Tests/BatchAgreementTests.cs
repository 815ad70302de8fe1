using TSViz.Explain.Attribution;
using TSViz.Explain.Runtime;
using TSViz.Explain.Tests.Attribution;
using TSViz.Tests.Shared;

namespace TSViz.Explain.Tests;

/// <summary>
/// A window's explanation does not depend on the windows explained beside it. libtorch's oneDNN got the input
/// gradient of a batch wrong on a small convolution (2 channels, 3 filters of width 3: the smooth test model), so
/// the explainer checks each model at load and switches oneDNN off when batched gradients disagree.
/// </summary>
public sealed class BatchAgreementTests
{
    [Fact]
    public void SmallConvolutionShapes_BatchedAttributionsEqualOneWindowAtATime()
    {
        using var explainer = Explainer.Load(TinyModels.Smooth(5));
        var windows = TinyModels.RandomWindows(9, 4, 2, 16);

        var batched = InputAttributions.GradientTimesInput(explainer, windows, 4, new ExplainOptions());
        var saliency = explainer.Explain(windows, 4);
        for (int w = 0; w < 4; w++)
        {
            var alone = InputAttributions.GradientTimesInput(explainer, windows.AsSpan(w * 32, 32), 1, new ExplainOptions())[0];
            Assert.Equal(alone.Attribution, batched[w].Attribution, new ToleranceComparer(1e-5f));
            Assert.Equal(explainer.Explain(windows.AsSpan(w * 32, 32), 1)[0].SaliencyRaw, saliency[w].SaliencyRaw, new ToleranceComparer(1e-5f));
        }

        // The load-time check found this model's disagreement and switched oneDNN off (done before any test ran: OneDnnAtStart).
        Assert.True(OneDnnAtStart.SmoothModelSwitchedItOff);
        Assert.False(TorchRuntime.IsMkldnnEnabled);
    }

    [Fact]
    public void ShippedModels_KeepOneDnn_AndTheirBatchesAgree()
    {
        // The shipped models' batches agree (in this process without oneDNN; with it on, as the monitor runs them:
        // LiveExplainerTests.ExplainAsync_ShippedModel_OneDnnOnAndEachWindowAsIfAlone).
        foreach (string path in new[] { RepositoryPaths.AnomalyModel, RepositoryPaths.TrafficModel })
        {
            using var explainer = Explainer.Load(path);
            int size = explainer.Metadata.Channels.Count * explainer.Metadata.WindowLength;
            var windows = TinyModels.RandomWindows(3, 6, explainer.Metadata.Channels.Count, explainer.Metadata.WindowLength);
            var batched = explainer.Explain(windows, 6);
            for (int w = 0; w < 6; w++)
            {
                var alone = explainer.Explain(windows.AsSpan(w * size, size), 1)[0];
                float scale = alone.SaliencyRaw.Max();
                Assert.All(alone.SaliencyRaw.Zip(batched[w].SaliencyRaw), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4f * scale, $"{path} window {w}: {p.First} alone, {p.Second} in the batch"));
            }
        }
    }
}
