using System.Threading.Channels;

namespace TSViz.Monitor.Live;

/// <summary>
/// Acknowledges input messages in arrival order (MQTT requires it of a client that acknowledges by hand), each once
/// it is decoded and everything derived from it is durable. A machine that goes silent never holds the others back:
/// a message's partial window is made durable by the checkpoint written with the next history write, not by the
/// machine's next window.
/// </summary>
internal sealed partial class AcknowledgementTracker(LiveMetrics metrics, StageHealth health, ILogger<AcknowledgementTracker> logger) : IDisposable
{
    public const string StageName = "acknowledge";

    private readonly Queue<InFlightMessage> inFlight = new();
    private readonly List<InFlightMessage> forwarded = [];
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly Channel<bool> requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly StageHealth.Stage stage = health.Register(StageName);

    /// <summary>Messages received and not yet acknowledged.</summary>
    public int Count
    {
        get
        {
            lock (inFlight)
            {
                return inFlight.Count;
            }
        }
    }

    /// <summary>Takes a message in arrival order (called from the MQTT handler).</summary>
    public void Track(InFlightMessage message)
    {
        lock (inFlight)
        {
            inFlight.Enqueue(message);
            metrics.InputUnacknowledged.Set(inFlight.Count);
            stage.Waiting(inFlight.Count);
        }
    }

    /// <summary>
    /// Takes samples another node of the cluster handed to this one (cluster mode): they are acknowledged to that node,
    /// not to the broker, so in any order, each as soon as it is complete. Kept apart from the broker's messages: in one
    /// queue a forwarded message would wait behind a received one that itself waits on another node, and two nodes
    /// would wait on each other.
    /// </summary>
    public void TrackForwarded(InFlightMessage message)
    {
        lock (forwarded)
        {
            forwarded.Add(message);
        }
    }

    /// <summary>Asks the loop to acknowledge what is complete (never blocks).</summary>
    public void Request() => requests.Writer.TryWrite(true);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await requests.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                requests.Reader.TryRead(out _);
                await AcknowledgeCompletedAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what was not acknowledged is redelivered to the next run.
        }
    }

    /// <summary>Acknowledges, in arrival order, every leading message that is complete.</summary>
    public async Task AcknowledgeCompletedAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await AcknowledgeForwardedAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                InFlightMessage? head;
                lock (inFlight)
                {
                    if (!inFlight.TryPeek(out head) || !head.Decoded || head.Pending > 0)
                    {
                        stage.Waiting(inFlight.Count);
                        return;
                    }

                    inFlight.Dequeue();
                    metrics.InputUnacknowledged.Set(inFlight.Count);
                }

                stage.Progress();
                if (!head.StillDeliverable)
                {
                    // Arrived on a connection that is gone: the broker redelivers it on the new one.
                    continue;
                }

                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(TimeSpan.FromSeconds(5));
                    await head.AcknowledgeAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    LogAckFailed(logger, ex.Message);
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task AcknowledgeForwardedAsync(CancellationToken cancellationToken)
    {
        List<InFlightMessage> done;
        lock (forwarded)
        {
            if (forwarded.Count == 0)
            {
                return;
            }

            // Removes exactly what it acknowledges: a message that completes between two passes over the list (its
            // hand-over finishes on another thread) is taken by the next call, never dropped unacknowledged.
            done = forwarded.FindAll(m => m.Decoded && m.Pending == 0);
            var taken = done.ToHashSet();
            forwarded.RemoveAll(taken.Contains);
        }

        foreach (var message in done)
        {
            await message.AcknowledgeAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => gate.Dispose();

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Acknowledging an input message failed (it will be redelivered): {Error}")]
    private static partial void LogAckFailed(ILogger logger, string error);
}
