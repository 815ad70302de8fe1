using Microsoft.Extensions.Options;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>
/// Liveness of the live path's stages. Each stage reports progress (a unit of work done) and how much input waits
/// for it; a stage with input waiting and no progress for <see cref="HealthSettings.StallSeconds"/> is stalled, and
/// a stage whose loop ended with an exception is faulted. /health turns 503 on either, and the
/// <see cref="HealthWatchdog"/> stops the process with a non-zero exit code when one lasts.
/// </summary>
internal sealed class StageHealth(TimeProvider time, IOptions<MonitorOptions> options)
{
    private readonly List<Stage> stages = [];

    /// <summary>A registered stage: created once per stage name.</summary>
    public Stage Register(string name)
    {
        lock (stages)
        {
            var existing = stages.Find(s => s.Name == name);
            if (existing is not null)
            {
                return existing;
            }

            var stage = new Stage(name, time);
            stages.Add(stage);
            return stage;
        }
    }

    /// <summary>Every stage's state now, in registration order.</summary>
    public IReadOnlyList<StageReport> Report()
    {
        var stall = TimeSpan.FromSeconds(options.Value.Health.StallSeconds);
        lock (stages)
        {
            return stages.Select(s => s.Report(stall)).ToList();
        }
    }

    /// <summary>
    /// The first stage that is faulted, or stalled for at least <paramref name="atLeast"/>, if any. Stalls while a stage
    /// reports backpressure from outside (the history failing) do not count: the input waits in the broker by design,
    /// and a restart would not make the database writable.
    /// </summary>
    public StageReport? Failing(TimeSpan atLeast)
    {
        var report = Report();
        bool backpressure = report.Any(r => r.Backpressure is not null);
        return report.FirstOrDefault(r => r.State == StageState.Faulted
            || (!backpressure && r.State == StageState.Stalled && r.SecondsSinceProgress >= atLeast.TotalSeconds));
    }

    /// <summary>One stage's liveness, updated by the stage itself.</summary>
    internal sealed class Stage(string name, TimeProvider time)
    {
        private long lastProgress = time.GetTimestamp();
        private long waitingSince = time.GetTimestamp();
        private int waiting;
        private volatile string? fault;
        private volatile string? backpressure;
        private volatile bool running = true;

        public string Name { get; } = name;

        /// <summary>The stage finished a unit of work.</summary>
        public void Progress() => Volatile.Write(ref lastProgress, time.GetTimestamp());

        /// <summary>How much input waits for the stage now.</summary>
        public void Waiting(int count)
        {
            // A stall is measured from the later of the last progress and the moment input started waiting: a stage
            // idle for an hour is not stalled the instant a message arrives.
            if (Interlocked.Exchange(ref waiting, count) == 0 && count > 0)
            {
                Volatile.Write(ref waitingSince, time.GetTimestamp());
            }
        }

        /// <summary>The stage's loop ended with an exception it could not contain.</summary>
        public void Fault(Exception exception) => fault = $"{exception.GetType().Name}: {exception.Message}";

        /// <summary>Something outside the monitor holds the stage back (null: nothing does any more).</summary>
        public void Backpressure(string? why) => backpressure = why;

        /// <summary>The stage ended normally (shutdown).</summary>
        public void Stopped() => running = false;

        public StageReport Report(TimeSpan stall)
        {
            double since = time.GetElapsedTime(Math.Max(Volatile.Read(ref lastProgress), Volatile.Read(ref waitingSince))).TotalSeconds;
            int queued = Volatile.Read(ref waiting);
            var state = fault is not null ? StageState.Faulted
                : !running ? StageState.Stopped
                : queued > 0 && since >= stall.TotalSeconds ? StageState.Stalled
                : StageState.Running;
            return new StageReport(Name, state, Math.Round(since, 3), queued, fault, backpressure);
        }
    }
}

/// <summary>A stage's liveness as /health shows it.</summary>
internal sealed record StageReport(string Name, StageState State, double SecondsSinceProgress, int Waiting, string? Fault, string? Backpressure);

internal enum StageState
{
    Running,
    Stalled,
    Faulted,
    Stopped,
}
