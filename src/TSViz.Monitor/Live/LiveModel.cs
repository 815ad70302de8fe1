using TSViz.Explain;
using TSViz.Explain.Onnx;
using TSViz.Plugins.Scoring;

namespace TSViz.Monitor.Live;

/// <summary>The deployed model, loaded once: ONNX Runtime scores it, the explainer explains the very same file.</summary>
internal sealed class LiveModel : IDisposable
{
    /// <summary>Loads <paramref name="path"/> into ONNX Runtime for scoring and into the explainer.</summary>
    public LiveModel(string path)
        : this(path, p => OnnxRuntimeScorer.Open(p))
    {
    }

    /// <summary>
    /// Loads <paramref name="path"/> into the scorer <paramref name="openScorer"/> opens (another runtime behind
    /// <see cref="IWindowScorer"/>) and into the explainer, which always reads the weights of the same file.
    /// </summary>
    public LiveModel(string path, Func<string, IWindowScorer> openScorer)
    {
        ArgumentNullException.ThrowIfNull(openScorer);
        Path = path;
        Scorer = openScorer(path);
        Explainer = Explainer.Load(path);
        if (Scorer.Metadata.DecisionThreshold is null)
        {
            Dispose();
            throw new ModelFileException($"Model '{path}' declares no decision threshold (tsviz.decision_threshold); the live monitor raises alerts and needs one.");
        }
    }

    /// <summary>The deployed model file.</summary>
    public string Path { get; }

    /// <summary>Scores the live path's windows (ONNX Runtime unless another scorer was given).</summary>
    public IWindowScorer Scorer { get; }

    public Explainer Explainer { get; }

    /// <summary>
    /// Held while the explainer runs: the live processor and the API's on-demand analyses take turns (libtorch is
    /// already parallel inside one call; two calls at once only contend for the same cores). The nightly analysis
    /// builds its own single-threaded explainer from the same file, so it never holds up the live path for seconds.
    /// </summary>
    private SemaphoreSlim ExplainerGate { get; } = new(1, 1);

    /// <summary>How long disposing waits for a score or an explanation under way (a stopping host's stages may still run).</summary>
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(30);

    private int scoring;
    private volatile bool disposed;

    /// <summary>Waits for the explainer; disposing the result gives it back (once, however often it is disposed).</summary>
    public async Task<IDisposable> TakeExplainerAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        await ExplainerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var turn = new Turn(() => ExplainerGate.Release());
        if (disposed)
        {
            turn.Dispose();
            throw new ObjectDisposedException(nameof(LiveModel));
        }

        return turn;
    }

    /// <summary>
    /// Held while <see cref="Scorer"/> runs: the native session is released only once no score is under way (freeing
    /// it under a running call crashed the process in ONNX Runtime and libtorch, seen at shutdown).
    /// </summary>
    public IDisposable UseScorer()
    {
        Interlocked.Increment(ref scoring);
        var use = new Turn(() => Interlocked.Decrement(ref scoring));
        if (disposed)
        {
            use.Dispose();
            throw new ObjectDisposedException(nameof(LiveModel));
        }

        return use;
    }

    private sealed class Turn(Action release) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                release();
            }
        }
    }

    /// <summary>
    /// Runs scoring, explanation and one FGSM step once for every batch size up to <paramref name="maxBatch"/> on
    /// random windows, before any input arrives. Measured: without it the first 10-25 s under full load run slower
    /// than the offered rate (JIT tiering, and libtorch preparing its kernels for every new batch shape) and build a
    /// backlog that live windows then wait behind.
    /// </summary>
    /// <returns>How long the warm-up took.</returns>
    public TimeSpan WarmUp(int maxBatch, double epsilon)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        int size = Metadata.Channels.Count * Metadata.WindowLength;
        var random = new Random(1);
        var windows = new float[maxBatch * size];
        for (int i = 0; i < windows.Length; i++)
        {
            windows[i] = (float)random.NextDouble();
        }

        var scores = new float[maxBatch];
        using var use = UseScorer();
        ExplainerGate.Wait();
        using var turn = new Turn(() => ExplainerGate.Release());
        for (int n = 1; n <= maxBatch; n++)
        {
            var part = windows.AsSpan(0, n * size);
            Scorer.Score(part, n, scores);
            Explainer.Explain(part, n, new Explain.Attribution.ExplainOptions { IncludeReceivedSaliency = false });
            Explainer.Fgsm(part, n, epsilon);
        }

        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    public ModelMetadata Metadata => Scorer.Metadata;

    public string Version => $"{Metadata.Name} {Metadata.Version}";

    public double Threshold => Metadata.DecisionThreshold!.Value;

    /// <summary>
    /// The id of a result of this model for <paramref name="machine"/> at <paramref name="time"/>:
    /// machine:time:model/version (windows: their end; alert episodes: their start). It is the idempotency key.
    /// </summary>
    public string ResultId(string machine, DateTimeOffset time)
        => $"{machine}:{time.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}:{Metadata.Name}/{Metadata.Version}";

    /// <summary>
    /// Releases the native sessions once no score and no explanation is under way (waiting up to 30 s); later uses get
    /// an <see cref="ObjectDisposedException"/>. If one is still running then, they are left to the process's exit
    /// rather than freed under it.
    /// </summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        var limit = System.Diagnostics.Stopwatch.StartNew();
        bool explaining = !ExplainerGate.Wait(DrainLimit);
        while (Volatile.Read(ref scoring) > 0 && limit.Elapsed < DrainLimit)
        {
            Thread.Sleep(10);
        }

        if (explaining || Volatile.Read(ref scoring) > 0)
        {
            return;
        }

        Scorer.Dispose();
        Explainer.Dispose();
        ExplainerGate.Release(); // a caller still waiting for a turn gets it, sees the model disposed and throws
    }
}
