using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Ingest;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// Cluster mode's stage between the gateway and the machines' owners. It takes the messages this node received through
/// the shared subscription in batches (up to <see cref="MaxBatch"/>, what has arrived), decodes them, writes their
/// samples to the staged input (<see cref="StagedInput"/>, one COPY per batch) and only then lets them be acknowledged
/// to the broker (in arrival order, by the acknowledgement tracker). Then it hands each machine's samples to that
/// machine's grain, wherever in the cluster it is active. A hand-over that fails (the owner died or its activation
/// moved) is tried again with backoff until it succeeds or the node stops; the samples are durable meanwhile, and an
/// owner that activates, or a hold that ends, reads them back. A message the decoder refuses, or one without samples,
/// goes to this node's ingest stage as it came, which dead-letters it or takes its commands, as alone.
/// </summary>
internal sealed partial class InputRouter(
    LiveQueues queues, AcknowledgementTracker tracker, ISampleDecoder decoder, IGrainFactory grains, InputHold hold, StagedInput staged,
    ClusterMetrics metrics, LiveMetrics liveMetrics, StageHealth health, ILogger<InputRouter> logger) : BackgroundService
{
    public const string StageName = "route";

    /// <summary>Most messages staged in one COPY.</summary>
    public const int MaxBatch = 512;

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
        public List<MachineSamples> Waiting { get; } = [];

        public bool Sending { get; set; }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Runs until the gateway completes the route queue at shutdown; then waits for its hand-overs, and only then
        // completes the ingest queue, which this node's own grains may still be writing to.
        try
        {
            var batch = new List<InFlightMessage>(MaxBatch);
            var reader = queues.Route.Reader;
            while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && reader.TryRead(out var message))
                {
                    batch.Add(message);
                }

                stage.Waiting(reader.Count);
                await RouteAsync(batch, stoppingToken).ConfigureAwait(false);
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

    /// <summary>
    /// Decodes the messages, stages their samples (one COPY for the batch), lets them be acknowledged, then hands each
    /// machine's samples to its owner.
    /// </summary>
    private async Task RouteAsync(List<InFlightMessage> messages, CancellationToken stoppingToken)
    {
        var accepted = new List<(InFlightMessage Message, List<MachineSamples> Samples)>(messages.Count);
        foreach (var message in messages)
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
                // Refused (dead-lettered on this node, as alone), or a command: the ingest stage takes it as it came.
                await queues.Ingest.Writer.WriteAsync(message, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            if (message.Redelivered)
            {
                liveMetrics.MessagesRedelivered.Inc(); // the owners drop its repeated samples as duplicates
            }

            accepted.Add((message, [.. result.Samples.Select(s => s.Machine).Distinct(StringComparer.Ordinal)
                .Select(machine => MachineSamples.Of(machine, message.Topic, result.Samples, message.Redelivered))]));
        }

        if (accepted.Count == 0)
        {
            return;
        }

        // Durable before it is acknowledged: from here the broker's copy may go.
        if (!await StageAsync([.. accepted.SelectMany(a => a.Samples)], stoppingToken).ConfigureAwait(false))
        {
            return; // stopping: unacknowledged, the messages come back to a live node
        }

        foreach (var (message, _) in accepted)
        {
            message.Decoded = true;
        }

        tracker.Request();
        foreach (var samples in accepted.SelectMany(a => a.Samples))
        {
            Interlocked.Increment(ref inFlight);
            metrics.HandoversInFlight.Inc();
            bool start;
            lock (mailboxes)
            {
                if (!mailboxes.TryGetValue(samples.Machine, out var mailbox))
                {
                    mailboxes[samples.Machine] = mailbox = new Mailbox();
                }

                mailbox.Waiting.Add(samples);
                start = !mailbox.Sending;
                mailbox.Sending = true;
            }

            if (start)
            {
                _ = SendAsync(samples.Machine, stoppingToken);
            }
        }
    }

    /// <summary>Stages the rows, trying again while the database fails; false when the node stops first.</summary>
    private async Task<bool> StageAsync(List<MachineSamples> rows, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await staged.StageAsync(rows, stoppingToken).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is Npgsql.NpgsqlException or TimeoutException)
            {
                metrics.StagingRetries.Inc();
                LogStagingRetry(logger, rows.Count, delay.TotalMilliseconds, ex.Message);
                try
                {
                    await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }

                delay = TimeSpan.FromMilliseconds(Math.Min(5_000, delay.TotalMilliseconds * 2));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return false;
            }
        }
    }

    /// <summary>Hands the machine's waiting samples over, batch after batch, until none wait.</summary>
    private async Task SendAsync(string machine, CancellationToken stoppingToken)
    {
        while (true)
        {
            List<MachineSamples> batch;
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

            var first = batch[0];
            if (!hold.Released.IsCompleted)
            {
                // While a dead node's input is being taken over, the owners release nothing and the dead node's grains
                // have no activation yet: samples (staged already) wait here rather than fail against it. When the hold
                // ends, every owner reads the staged input again, so these arrive mostly as duplicates.
                try
                {
                    await hold.Released.WaitAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    Done(batch.Count);
                    return; // stopping: staged, the samples reach their owner when it reads the staged input after this node's death
                }

                lock (mailboxes)
                {
                    // Everything that arrived meanwhile goes in the same hand-over.
                    var mailbox = mailboxes[machine];
                    batch.AddRange(mailbox.Waiting);
                    mailbox.Waiting.Clear();
                }
            }

            var merged = new MachineSamples(machine, first.Topic, [.. batch.SelectMany(b => b.TimestampTicks)], [.. batch.SelectMany(b => b.Values)],
                first.Channels, batch.Any(b => b.Redelivered));
            await HandOverAsync(merged, stoppingToken).ConfigureAwait(false);
            Done(batch.Count);
        }
    }

    private void Done(int handedOver)
    {
        Interlocked.Add(ref inFlight, -handedOver);
        metrics.HandoversInFlight.Dec(handedOver);
    }

    /// <summary>Completes once the owner has the samples, or when the node stops first (they are staged: the owner reads them back after this node's death).</summary>
    private async Task HandOverAsync(MachineSamples samples, CancellationToken stoppingToken)
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
                    return;
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
            // Stopping with the owner unreachable: staged, the samples are read back by the owner after this node's death.
            LogAbandoned(logger, samples.Machine, ex.Message);
        }
    }

    [LoggerMessage(EventId = 1500, Level = LogLevel.Warning, Message = "Handing samples of machine {Machine} to its owner failed, retrying in {Milliseconds} ms: {Error}")]
    private static partial void LogRetry(ILogger logger, string machine, double milliseconds, string error);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Stopping: samples of machine {Machine} not handed over ({Error}); staged, the owner reads them back")]
    private static partial void LogAbandoned(ILogger logger, string machine, string error);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Warning, Message = "Staging {Rows} rows of received samples failed, retrying in {Milliseconds} ms (their messages stay unacknowledged): {Error}")]
    private static partial void LogStagingRetry(ILogger logger, int rows, double milliseconds, string error);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Critical, Message = "The input router stopped")]
    private static partial void LogStageDied(ILogger logger, Exception exception);
}
