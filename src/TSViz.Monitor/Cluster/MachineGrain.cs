using System.Diagnostics;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Ingest;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// The owner's side of <see cref="IMachineGrain"/>. Reentrant: calls interleave at their awaits, so a call waiting for
/// its samples to become durable does not hold up the next message. Each call's samples are held for
/// Cluster:ReorderMilliseconds; then everything that arrived no later is merged, sorted by sample timestamp, and handed
/// to this node's ingest stage, one hand-over after the other. Messages of one machine that overtook each other on the
/// way from different nodes are thus put back in order; a sample later than the window is dropped by the window
/// assembler as out of order, and counted (tsviz_samples_dropped_total). While a dead node's input is not yet
/// accounted for (<see cref="InputHold"/>), the senders hold newer samples back.
/// </summary>
[Reentrant]
[Orleans.Placement.RandomPlacement]
internal sealed class MachineGrain(OwnedMachines owned, InputHold hold, IOptions<MonitorOptions> options) : Grain, IMachineGrain
{
    private readonly TimeSpan reorder = TimeSpan.FromMilliseconds(options.Value.Cluster.ReorderMilliseconds);
    private readonly List<Held> held = [];
    private Task queued = Task.CompletedTask;

    private sealed record Held(MachineSamples Samples, long Arrived, TaskCompletionSource Durable);

    public async Task Ingest(MachineSamples samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var entry = new Held(samples, Stopwatch.GetTimestamp(), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        held.Add(entry);
        if (reorder > TimeSpan.Zero)
        {
            await Task.Delay(reorder).ConfigureAwait(true); // back on the grain's scheduler
        }

        // A dead node's unacknowledged input comes back through the takeover of its session, while the senders hold
        // everything back (InputRouter); a hand-over that was already here when that began waits for it too, but at
        // most one more reorder period (a grain call that waits long was seen to hold up the calls behind it).
        if (!hold.Released.IsCompleted)
        {
            await Task.WhenAny(hold.Released, Task.Delay(reorder)).ConfigureAwait(true);
        }

        Release(entry.Arrived);
        await entry.Durable.Task.ConfigureAwait(true);
    }

    /// <summary>Hands over, in timestamp order, everything held that arrived by <paramref name="cutoff"/>.</summary>
    private void Release(long cutoff)
    {
        bool Ready(Held h) => h.Arrived <= cutoff;
        var ready = held.Where(Ready).ToList();
        if (ready.Count == 0)
        {
            return;
        }

        held.RemoveAll(Ready);
        var samples = ready.SelectMany(h => h.Samples.Samples()).OrderBy(s => s.Timestamp).ToList(); // stable: ties keep arrival order
        var previous = queued;
        var handOver = QueueAsync(previous, ready, samples);
        queued = handOver;
        _ = CompleteWhenDurableAsync(handOver, ready);
    }

    /// <summary>Queues on this node's ingest stage after the previous hand-over was queued (never after it is durable: that would serialise the writes).</summary>
    private async Task<Task> QueueAsync(Task previous, List<Held> ready, List<Sample> samples)
    {
        try
        {
            await previous.ConfigureAwait(true);
        }
        catch (Exception)
        {
            // That hand-over's callers got its failure; this one goes on.
        }

        return await owned.SubmitAsync(ready[0].Samples.Topic, samples, ready.Any(h => h.Samples.Redelivered), CancellationToken.None).ConfigureAwait(true);
    }

    private static async Task CompleteWhenDurableAsync(Task<Task> handOver, List<Held> ready)
    {
        try
        {
            await (await handOver.ConfigureAwait(true)).ConfigureAwait(true);
            ready.ForEach(h => h.Durable.TrySetResult());
        }
        catch (Exception ex)
        {
            ready.ForEach(h => h.Durable.TrySetException(ex));
        }
    }
}
