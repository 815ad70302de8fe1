using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Ingest;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// Cluster mode's stage between the gateway and the machines' owners. It decodes each message this node received
/// through the shared subscription and hands each machine's samples to that machine's grain, wherever in the cluster it
/// is active; the message is acknowledged to the broker (in arrival order, by the acknowledgement tracker) only when
/// every owner has made its samples durable. A hand-over that fails (the owner died or its activation moved) is tried
/// again with backoff until it succeeds or the node stops: then the message stays unacknowledged and the broker
/// delivers it again. A message the decoder refuses, or one without samples, goes to this node's ingest stage as it
/// came, which dead-letters it or takes its commands, as alone.
/// </summary>
internal sealed partial class InputRouter(
    LiveQueues queues, AcknowledgementTracker tracker, ISampleDecoder decoder, IGrainFactory grains, InputHold hold, ClusterMetrics metrics,
    StageHealth health, ILogger<InputRouter> logger) : BackgroundService
{
    public const string StageName = "route";

    private readonly StageHealth.Stage stage = health.Register(StageName);
    private readonly Dictionary<string, Mailbox> mailboxes = new(StringComparer.Ordinal);
    private int inFlight;

    /// <summary>
    /// One machine's samples waiting to go to its owner from this node. One hand-over per machine is under way at a
    /// time, carrying everything that arrived while the previous one was: this node's samples of a machine reach the
    /// owner in the order they were received, and a slow owner gets bigger hand-overs, not more of them.
    /// </summary>
    private sealed class Mailbox
    {
        public List<(InFlightMessage Message, MachineSamples Samples)> Waiting { get; } = [];

        public bool Sending { get; set; }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Runs until the gateway completes the route queue at shutdown; then waits for its hand-overs, and only then
        // completes the ingest queue, which this node's own grains may still be writing to.
        try
        {
            await foreach (var message in queues.Route.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                stage.Waiting(queues.Route.Reader.Count);
                await RouteAsync(message, stoppingToken).ConfigureAwait(false);
                stage.Progress();
            }

            while (Volatile.Read(ref inFlight) > 0 && !stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
            }

            stage.Stopped();
        }
        catch (Exception ex)
        {
            stage.Fault(ex);
            LogStageDied(logger, ex);
            throw;
        }
        finally
        {
            queues.Ingest.Writer.TryComplete();
        }
    }

    private async Task RouteAsync(InFlightMessage message, CancellationToken stoppingToken)
    {
        DecodeResult result;
        try
        {
            result = decoder.Decode(message.Topic, message.Payload);
        }
        catch (Exception ex)
        {
            result = DecodeResult.Rejected(RejectionReason.DecoderFailure, $"the decoder failed with {ex.GetType().FullName}: {ex.Message}");
        }

        if (result.IsRejected || result.Samples.Count == 0 || result.Commands.Count > 0 || result.Resets.Count > 0)
        {
            await queues.Ingest.Writer.WriteAsync(message, CancellationToken.None).ConfigureAwait(false);
            return;
        }

        foreach (string machine in result.Samples.Select(s => s.Machine).Distinct(StringComparer.Ordinal))
        {
            var samples = MachineSamples.Of(machine, message.Topic, result.Samples, message.Redelivered);
            message.AddPending();
            Interlocked.Increment(ref inFlight);
            metrics.HandoversInFlight.Inc();
            bool start;
            lock (mailboxes)
            {
                if (!mailboxes.TryGetValue(machine, out var mailbox))
                {
                    mailboxes[machine] = mailbox = new Mailbox();
                }

                mailbox.Waiting.Add((message, samples));
                start = !mailbox.Sending;
                mailbox.Sending = true;
            }

            if (start)
            {
                _ = SendAsync(machine, stoppingToken);
            }
        }

        message.Decoded = true;
    }

    /// <summary>Hands the machine's waiting samples over, batch after batch, until none wait.</summary>
    private async Task SendAsync(string machine, CancellationToken stoppingToken)
    {
        while (true)
        {
            List<(InFlightMessage Message, MachineSamples Samples)> batch;
            lock (mailboxes)
            {
                var mailbox = mailboxes[machine];
                if (mailbox.Waiting.Count == 0)
                {
                    mailboxes.Remove(machine);
                    return;
                }

                batch = [.. mailbox.Waiting];
                mailbox.Waiting.Clear();
            }

            var first = batch[0].Samples;
            if (!hold.Released.IsCompleted)
            {
                // While a dead node's input is being taken over, samples wait here, not in the owners' grains (a
                // grain call that waits was seen to hold up the calls behind it after a failover). The takeover's
                // samples wait too: once it has received all of them, every node sends at once and each owner puts
                // the dead node's samples and the others' newer ones in timestamp order.
                try
                {
                    await hold.Released.WaitAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return; // stopping: the messages stay unacknowledged and come back to a live node
                }

                lock (mailboxes)
                {
                    // Everything that arrived meanwhile goes in the same hand-over.
                    var mailbox = mailboxes[machine];
                    batch.AddRange(mailbox.Waiting);
                    mailbox.Waiting.Clear();
                }
            }

            var merged = new MachineSamples(machine, first.Topic, [.. batch.SelectMany(b => b.Samples.TimestampTicks)], [.. batch.SelectMany(b => b.Samples.Values)],
                first.Channels, batch.Any(b => b.Samples.Redelivered));
            bool delivered = await HandOverAsync(merged, stoppingToken).ConfigureAwait(false);
            foreach (var (message, _) in batch)
            {
                Interlocked.Decrement(ref inFlight);
                metrics.HandoversInFlight.Dec();
                if (delivered)
                {
                    message.PendingDone();
                }
            }

            tracker.Request();
        }
    }

    /// <summary>True once the owner has the samples durable; false when the node stops first (the input stays unacknowledged).</summary>
    private async Task<bool> HandOverAsync(MachineSamples samples, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        try
        {
            while (true)
            {
                try
                {
                    await grains.GetGrain<IMachineGrain>(samples.Machine).Ingest(samples).ConfigureAwait(false);
                    metrics.Handovers.WithLabels("delivered").Inc();
                    return true;
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    metrics.Handovers.WithLabels("retried").Inc();
                    LogRetry(logger, samples.Machine, delay.TotalMilliseconds, ex.Message);
                    await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                    // The owner died: its node's input is being taken over, and older samples may come with it.
                    await hold.Released.WaitAsync(stoppingToken).ConfigureAwait(false);
                    delay = TimeSpan.FromMilliseconds(Math.Min(1_000, delay.TotalMilliseconds * 2)); // short: a retry lands soon after a takeover's hold ends
                }
            }
        }
        catch (Exception ex) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping with the owner unreachable: the message stays unacknowledged and comes back to a live node.
            LogAbandoned(logger, samples.Machine, ex.Message);
            return false;
        }
    }

    [LoggerMessage(EventId = 1500, Level = LogLevel.Warning, Message = "Handing samples of machine {Machine} to its owner failed, retrying in {Milliseconds} ms: {Error}")]
    private static partial void LogRetry(ILogger logger, string machine, double milliseconds, string error);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Stopping: samples of machine {Machine} not handed over ({Error}); the broker redelivers their message")]
    private static partial void LogAbandoned(ILogger logger, string machine, string error);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Critical, Message = "The input router stopped")]
    private static partial void LogStageDied(ILogger logger, Exception exception);
}
