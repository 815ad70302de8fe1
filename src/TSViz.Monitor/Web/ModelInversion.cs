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
/// results are kept) and kept: the result depends only on the model file and the seeds. A computation takes a turn of
/// the <see cref="InteractiveExplainer"/> (its single-threaded explainer, within the interactive limit), so its
/// thousand steps never hold up the live path's explainer and requests for many targets cannot take more than the
/// limit's cores; requests for a target being computed wait for that result without a turn of their own.
/// </summary>
internal sealed partial class ModelInversion(LiveModel model, InteractiveExplainer interactive, ILogger<ModelInversion> logger)
{
    public const int Starts = 3;
    public const int TrajectoryEvery = 10;
    public const double TargetStep = 0.05;

    private readonly ConcurrentDictionary<double, Task<InversionResult>> results = new();

    /// <summary>The result towards <paramref name="target"/>; null when it is not known yet and the interactive limit is full.</summary>
    public async Task<InversionResult?> GetAsync(double target, CancellationToken cancellationToken)
    {
        double key = Math.Round(Math.Round(target / TargetStep) * TargetStep, 2);
        while (true)
        {
            if (results.TryGetValue(key, out var known))
            {
                return await known.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            using var turn = await interactive.TryTakeAsync(cancellationToken).ConfigureAwait(false);
            if (turn is null)
            {
                return null;
            }

            var computing = new TaskCompletionSource<InversionResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!results.TryAdd(key, computing.Task))
            {
                continue; // another request started it while this one waited for its turn: wait for that one
            }

            try
            {
                var result = await turn.RunAsync(explainer => Compute(explainer, key)).ConfigureAwait(false);
                computing.SetResult(result);
                return result;
            }
            catch (Exception ex)
            {
                results.TryRemove(key, out _); // not kept: the next request tries again
                computing.SetException(ex);
                _ = computing.Task.Exception; // observed: the requests waiting on it get it, this one rethrows it
                throw;
            }
        }
    }

    private InversionResult Compute(Explainer explainer, double target)
    {
        long started = Stopwatch.GetTimestamp();
        var options = new InverseOptions { Target = target, Starts = Starts };
        // Not cancelled with the request: the result is kept and shared with every request for this target.
        var runs = new InverseOptimization(explainer).Explain(options, CancellationToken.None);
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
