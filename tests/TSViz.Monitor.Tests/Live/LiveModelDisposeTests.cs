using TSViz.Explain.Onnx;
using TSViz.Monitor.Live;
using TSViz.Plugins.Scoring;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// A stopping host disposes the model while its stages may still score or explain: the native sessions must not be
/// freed under a running call (that crashed the test host in libLibTorchSharp's THSTensor_sizes and in ONNX Runtime).
/// </summary>
public sealed class LiveModelDisposeTests
{
    [Fact]
    public async Task Dispose_WhileScoring_WaitsForTheScoreAndThenRefusesNewOnes()
    {
        var scorer = new BlockingScorer(OnnxRuntimeScorer.Open(RepositoryPaths.AnomalyModel));
        var model = new LiveModel(RepositoryPaths.AnomalyModel, _ => scorer);
        int size = model.Metadata.Channels.Count * model.Metadata.WindowLength;
        var scoring = Task.Run(() =>
        {
            using (model.UseScorer())
            {
                model.Scorer.Score(new float[size], 1, new float[1]);
            }
        });
        Assert.True(scorer.Started.Wait(TimeSpan.FromSeconds(30)), "the score never started");

        var disposing = Task.Run(model.Dispose);
        await Task.Delay(300);
        Assert.False(scorer.Disposed, "the scorer was disposed while a score was running");
        scorer.Finish.Set();
        await scoring;
        await disposing;

        Assert.True(scorer.Disposed);
        Assert.False(scorer.DisposedWhileScoring);
        Assert.Throws<ObjectDisposedException>(() => model.UseScorer());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => model.TakeExplainerAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Dispose_WhileExplaining_WaitsForTheTurn()
    {
        var scorer = new BlockingScorer(OnnxRuntimeScorer.Open(RepositoryPaths.AnomalyModel));
        scorer.Finish.Set();
        var model = new LiveModel(RepositoryPaths.AnomalyModel, _ => scorer);
        var turn = await model.TakeExplainerAsync(CancellationToken.None);

        var disposing = Task.Run(model.Dispose);
        await Task.Delay(300);
        Assert.False(scorer.Disposed, "the model was disposed while the explainer's turn was taken");
        turn.Dispose();
        await disposing;
        Assert.True(scorer.Disposed);
    }

    /// <summary>The real ONNX Runtime scorer, with a score that waits to be let go and a record of its disposal.</summary>
    private sealed class BlockingScorer(IWindowScorer inner) : IWindowScorer
    {
        private int running;

        public ManualResetEventSlim Started { get; } = new();

        public ManualResetEventSlim Finish { get; } = new();

        public bool Disposed { get; private set; }

        public bool DisposedWhileScoring { get; private set; }

        public ModelMetadata Metadata => inner.Metadata;

        public void Score(ReadOnlySpan<float> windows, int count, Span<float> scores)
        {
            Interlocked.Increment(ref running);
            Started.Set();
            Finish.Wait();
            inner.Score(windows, count, scores);
            Interlocked.Decrement(ref running);
        }

        public void Dispose()
        {
            DisposedWhileScoring |= Volatile.Read(ref running) > 0;
            Disposed = true;
            inner.Dispose();
        }
    }
}
