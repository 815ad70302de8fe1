using System.Diagnostics;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;
using TSViz.Plugins.Ingest;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// The owner's side of <see cref="IMachineGrain"/>: it puts one machine's samples, handed over by every node that
/// received some, in timestamp order and releases them to its node's ingest stage.
/// <list type="bullet">
/// <item>A sample is held for Cluster:ReorderMilliseconds after it arrived; then it, and every held sample older than
/// it, go to the ingest stage in timestamp order (<see cref="PumpAsync"/>, every <see cref="PumpPeriod"/>). A sample
/// older than one already released is late: the window assembler drops it as out of order, and counts it.</item>
/// <item>While a dead node's input is not yet accounted for (<see cref="InputHold"/>) nothing is released; when that
/// ends, the owner reads its machine's staged input (<see cref="StagedInput"/>) again, which holds what the dead node
/// received but had not handed over, and what its taken-over session gave.</item>
/// <item>On activation (the machine is new, or its previous owner died) it starts after the machine's checkpoint and
/// reads the staged samples since then: those the previous owner had not made durable. A staged sample counts as
/// arrived when it was staged.</item>
/// <item>A sample it already has, or had released (a redelivery, a retried hand-over, a staged row read back), is
/// dropped and counted (tsviz_cluster_duplicate_samples_total).</item>
/// </list>
/// Reentrant: <see cref="Ingest"/> only adds to the held samples and returns, so hand-overs never wait for one another.
/// </summary>
[Reentrant]
[Orleans.Placement.RandomPlacement]
internal sealed partial class MachineGrain(
    OwnedMachines owned, InputHold hold, StagedInput staged, IHistoryRestartState restart, ClusterMetrics metrics, IOptions<MonitorOptions> options,
    TimeProvider time, ILogger<MachineGrain> logger) : Grain, IMachineGrain
{
    /// <summary>How often held samples are looked at for release.</summary>
    public static readonly TimeSpan PumpPeriod = TimeSpan.FromMilliseconds(100);

    /// <summary>How many released sample times are remembered to tell a duplicate from a late sample.</summary>
    private const int Remembered = 2048;

    private readonly long reorderTicks = Stopwatch.Frequency * options.Value.Cluster.ReorderMilliseconds / 1000;
    private readonly SortedDictionary<long, Held> held = [];
    private readonly HashSet<long> recent = [];
    private readonly Queue<long> recentOrder = new();
    private string machine = "";
    private string topic = "";
    private long floor = long.MinValue; // samples up to here were assembled before this activation (its checkpoint)
    private long released = long.MinValue; // the newest sample released by this activation, or the floor
    private Task? seenRelease;
    private bool pumping;
    private Task lastDurable = Task.CompletedTask; // the newest hand-over to the ingest stage, durable once its windows and checkpoint are stored

    private readonly record struct Held(float[] Values, long Arrived);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        machine = this.GetPrimaryKeyString();
        if (await restart.LoadCheckpointAsync(machine, cancellationToken).ConfigureAwait(true) is { Last: { } last })
        {
            floor = released = last.UtcTicks;
        }

        seenRelease = hold.Released;
        await ReadStagedAsync(cancellationToken).ConfigureAwait(true);
        this.RegisterGrainTimer(PumpAsync, new GrainTimerCreationOptions { DueTime = PumpPeriod, Period = PumpPeriod, Interleave = true, KeepAlive = false });
        await base.OnActivateAsync(cancellationToken).ConfigureAwait(true);
    }

    /// <summary>
    /// Waits (bounded by Orleans' deactivation timeout) until what this activation released is durable, so the next
    /// owner starts from a checkpoint that includes it. What it still held is staged: the next owner reads it back.
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (held.Count > 0)
        {
            LogDeactivatedHolding(logger, machine, held.Count, reason.Description);
        }

        try
        {
            await lastDurable.WaitAsync(cancellationToken).ConfigureAwait(true);
        }
        catch (Exception ex)
        {
            LogDeactivatedUnsure(logger, machine, ex.Message);
        }

        await base.OnDeactivateAsync(reason, cancellationToken).ConfigureAwait(true);
    }

    public Task Ingest(MachineSamples samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        Add(samples, Stopwatch.GetTimestamp());
        return Task.CompletedTask;
    }

    private void Add(MachineSamples samples, long arrived)
    {
        if (samples.TimestampTicks.Length == 0)
        {
            return;
        }

        topic = samples.Topic;
        int duplicates = 0;
        for (int i = 0; i < samples.TimestampTicks.Length; i++)
        {
            long at = samples.TimestampTicks[i];
            if (at <= floor || recent.Contains(at) || held.ContainsKey(at))
            {
                duplicates++;
                continue;
            }

            // Older than a released sample and not one of them: late; it goes on, and the assembler counts it.
            held[at] = new Held(samples.Values.AsSpan(i * samples.Channels, samples.Channels).ToArray(), arrived);
        }

        if (duplicates > 0)
        {
            metrics.DuplicateSamples.Inc(duplicates);
        }
    }

    /// <summary>Releases, in timestamp order, every held sample up to the newest one held for the reorder period.</summary>
    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        if (pumping || held.Count == 0 && hold.Released == seenRelease)
        {
            return;
        }

        pumping = true;
        try
        {
            var release = hold.Released;
            if (!release.IsCompleted)
            {
                return; // a dead node's input is still coming
            }

            if (release != seenRelease)
            {
                // A hold ended: what a dead node staged and never handed over is in the staged input.
                seenRelease = release;
                await ReadStagedAsync(cancellationToken).ConfigureAwait(true);
            }

            long cutoff = Stopwatch.GetTimestamp() - reorderTicks;
            long upTo = long.MinValue;
            foreach (var (at, sample) in held)
            {
                if (sample.Arrived <= cutoff)
                {
                    upTo = at;
                }
            }

            if (upTo == long.MinValue)
            {
                return;
            }

            var samples = new List<Sample>();
            foreach (var (at, sample) in held)
            {
                if (at > upTo)
                {
                    break;
                }

                samples.Add(new Sample(machine, new DateTimeOffset(at, TimeSpan.Zero), sample.Values));
            }

            // Taken out of the held samples only once queued: a release that fails is tried again at the next pump.
            lastDurable = await owned.SubmitAsync(topic, samples, false, cancellationToken).ConfigureAwait(true);
            foreach (var sample in samples)
            {
                long at = sample.Timestamp.UtcTicks;
                held.Remove(at);
                Remember(at);
            }

            released = Math.Max(released, upTo);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPumpFailed(logger, machine, ex.Message);
        }
        finally
        {
            pumping = false;
        }
    }

    private void Remember(long at)
    {
        if (recent.Add(at))
        {
            recentOrder.Enqueue(at);
            if (recentOrder.Count > Remembered)
            {
                recent.Remove(recentOrder.Dequeue());
            }
        }
    }

    /// <summary>
    /// Adds the machine's staged samples after the newest released one, each as arrived when it was staged: that is
    /// when it reached the cluster, so it waits out the rest of its reorder period like every sample (a row another node
    /// is staging at this moment, older than one staged already, must still come before it).
    /// </summary>
    private async Task ReadStagedAsync(CancellationToken cancellationToken)
    {
        var rows = await staged.LoadAsync(machine, released, cancellationToken).ConfigureAwait(true);
        long now = Stopwatch.GetTimestamp();
        var wallNow = time.GetUtcNow();
        foreach (var row in rows)
        {
            var age = wallNow - row.StagedAt;
            Add(row.Samples, now - (long)(Math.Max(0, age.TotalSeconds) * Stopwatch.Frequency));
        }

        if (logger.IsEnabled(LogLevel.Information))
        {
            LogReadStaged(logger, machine, rows.Count, held.Count, floor, released);
        }
    }

    [LoggerMessage(EventId = 1522, Level = LogLevel.Warning, Message = "Machine {Machine}'s owner deactivated holding {Held} samples ({Reason})")]
    private static partial void LogDeactivatedHolding(ILogger logger, string machine, int held, string reason);

    [LoggerMessage(EventId = 1523, Level = LogLevel.Warning, Message = "Machine {Machine}'s owner deactivated before its last samples were durable ({Error}); the next owner may repeat them")]
    private static partial void LogDeactivatedUnsure(ILogger logger, string machine, string error);

    [LoggerMessage(EventId = 1520, Level = LogLevel.Error, Message = "Releasing samples of machine {Machine} failed, trying again: {Error}")]
    private static partial void LogPumpFailed(ILogger logger, string machine, string error);

    [LoggerMessage(EventId = 1521, Level = LogLevel.Information, Message = "Machine {Machine}: read {Rows} staged rows back; {Held} samples held (floor {Floor}, released {Released})")]
    private static partial void LogReadStaged(ILogger logger, string machine, int rows, int held, long floor, long released);
}
