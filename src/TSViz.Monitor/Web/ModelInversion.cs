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
/// Inverse optimisation (Eq. 24-25) of the deployed model, computed once per target and kept: the result depends
/// only on the model file and the seeds. It runs on its own single-threaded explainer built from the same file,
/// so its thousand steps never hold up the live path's explainer.
/// </summary>
internal sealed partial class ModelInversion(LiveModel model, ILogger<ModelInversion> logger)
{
    public const int Starts = 3;
    public const int TrajectoryEvery = 10;

    private readonly ConcurrentDictionary<double, Lazy<Task<InversionResult>>> results = new();

    public Task<InversionResult> GetAsync(double target, CancellationToken cancellationToken)
    {
        double key = Math.Round(target, 2);
        var entry = results.GetOrAdd(key, t => new Lazy<Task<InversionResult>>(() => Task.Run(() => Compute(t))));
        if (entry.Value.IsFaulted)
        {
            results.TryRemove(new KeyValuePair<double, Lazy<Task<InversionResult>>>(key, entry)); // the next request tries again
        }

        return entry.Value.WaitAsync(cancellationToken);
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
