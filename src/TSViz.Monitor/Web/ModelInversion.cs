using System.Collections.Concurrent;
using System.Diagnostics;
using TSViz.Explain;
using TSViz.Explain.Inversion;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Live;

namespace TSViz.Monitor.Web;

/// <summary>One start of the inverse optimisation, for the explorer: start and result (model input space) and the score on the way.</summary>
internal sealed record InversionStart(float[][] Initial, float[][] Optimised, float ScoreStart, float ScoreEnd, float[] Trajectory);

/// <summary>The inverse optimisation of the deployed model towards one target.</summary>
internal sealed record InversionResult(string Model, double Target, int Steps, double Alpha, int TrajectoryEvery, double Seconds, IReadOnlyList<InversionStart> Starts);

/// <summary>
/// Inverse optimisation (Eq. 24-25) of the deployed model, computed once per target (rounded to 0.05, so at most 21
/// results are kept) and kept: the result depends only on the model file and the seeds. One computation runs at a
/// time, on its own single-threaded explainer built from the same file, so its thousand steps never hold up the live
/// path's explainer and requests for many targets cannot take more than one core.
/// </summary>
internal sealed partial class ModelInversion(LiveModel model, ILogger<ModelInversion> logger) : IDisposable
{
    public const int Starts = 3;
    public const int TrajectoryEvery = 10;
    public const double TargetStep = 0.05;

    private readonly ConcurrentDictionary<double, Lazy<Task<InversionResult>>> results = new();
    private readonly SemaphoreSlim oneAtATime = new(1, 1);

    public Task<InversionResult> GetAsync(double target, CancellationToken cancellationToken)
    {
        double key = Math.Round(Math.Round(target / TargetStep) * TargetStep, 2);
        return results.GetOrAdd(key, t => new Lazy<Task<InversionResult>>(() => ComputeAsync(t))).Value.WaitAsync(cancellationToken);
    }

    public void Dispose() => oneAtATime.Dispose();

    private async Task<InversionResult> ComputeAsync(double target)
    {
        await oneAtATime.WaitAsync().ConfigureAwait(false);
        try
        {
            return await Task.Run(() => Compute(target)).ConfigureAwait(false);
        }
        catch
        {
            results.TryRemove(target, out _); // not kept: the next request tries again
            throw;
        }
        finally
        {
            oneAtATime.Release();
        }
    }

    private InversionResult Compute(double target)
    {
        long started = Stopwatch.GetTimestamp();
        var options = new InverseOptions { Target = target, Starts = Starts };
        using var explainer = Explainer.Load(model.Path, parallelism: 1);
        var runs = explainer.Invert(options);
        int channels = model.Metadata.Channels.Count, length = model.Metadata.WindowLength;
        var starts = runs.Select(r => new InversionStart(
            ChannelRows.Of(r.Initial, channels, length),
            ChannelRows.Of(r.Optimised, channels, length),
            r.ScoreTrajectory[0],
            r.ScoreTrajectory[^1],
            r.ScoreTrajectory.Where((_, i) => i % TrajectoryEvery == 0 || i == r.ScoreTrajectory.Length - 1).ToArray())).ToList();
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        float lowest = starts.Min(s => s.ScoreEnd);
        Log.Inverted(logger, target, lowest, seconds);
        return new InversionResult(model.Version, target, options.Steps, options.Alpha, TrajectoryEvery, seconds, starts);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Inverse optimisation towards {Target}: lowest final score of the starts {Score:F4}, {Seconds:F1} s")]
        public static partial void Inverted(ILogger logger, double target, float score, double seconds);
    }
}
