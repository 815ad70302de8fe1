using TSViz.Monitor.Live;
using TSViz.Plugins.Ingest;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// This node's entry for the machines it owns (cluster mode): samples a machine's grain hands over go into the ingest
/// queue as one message, decoded already, and are acknowledged to the grain (not to the broker) once durable.
/// </summary>
internal sealed class OwnedMachines(LiveQueues queues, AcknowledgementTracker tracker, TimeProvider time)
{
    /// <summary>
    /// Queues <paramref name="samples"/> for this node's ingest stage; the returned task (the outer one completes once
    /// they are queued, so the caller can keep hand-overs in order) completes when they are durable.
    /// </summary>
    public async Task<Task> SubmitAsync(string topic, IReadOnlyList<Sample> samples, bool redelivered, CancellationToken cancellationToken)
    {
        var durable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var message = new InFlightMessage(topic, [], redelivered, time.GetTimestamp(),
            _ =>
            {
                durable.TrySetResult();
                return Task.CompletedTask;
            },
            static () => true)
        {
            Predecoded = new DecodeResult(samples, null, null),
        };
        tracker.TrackForwarded(message);
        await queues.Ingest.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        return durable.Task;
    }
}
