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

        Assert.False(TorchRuntime.IsMkldnnEnabled); // this model needed it off (it stays off for the process)
    }

    [Fact]
    public void ShippedModels_KeepOneDnn_AndTheirBatchesAgree()
    {
        // The shipped models' batched gradients agree with oneDNN on: loading them does not switch it off (it is
        // 1.3-1.8x faster); whether it is on at this point depends on the other tests in this process.
        foreach (string path in new[] { RepositoryPaths.AnomalyModel, RepositoryPaths.TrafficModel })
        {
            using var explainer = Explainer.Load(path);
            Assert.False(explainer.SwitchedOffOneDnn, path);
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
