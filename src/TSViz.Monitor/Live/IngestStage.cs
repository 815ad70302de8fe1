using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;
using TSViz.Plugins.Ingest;
using TSViz.Plugins.Windows;

namespace TSViz.Monitor.Live;

/// <summary>
/// The live path's ingest stage: decodes each received message (through the registered <see cref="ISampleDecoder"/>),
/// dead-letters what it refuses, assembles per-machine windows, keeps the number of machines bounded (new machines
/// beyond Monitor:MaxMachines refused, idle ones evicted), and queues windows, gap notices and the checkpoint of the
/// machines it touched for the processor. Nothing a message contains can stop it: every failure is contained to the
/// message, dead-lettered with its reason and counted.
/// </summary>
internal sealed partial class IngestStage : BackgroundService
{
    public const string StageName = "ingest";

    /// <summary>Messages decoded before one checkpoint of the machines they touched is queued (at most IngestCapacity).</summary>
    private const int MaxGroupSize = 256;

    private readonly MonitorOptions options;
    private readonly LiveQueues queues;
    private readonly AcknowledgementTracker tracker;
    private readonly IResultPublisher publisher;
    private readonly ISampleDecoder decoder;
    private readonly LiveModel model;
    private readonly LiveMetrics metrics;
    private readonly TimeProvider time;
    private readonly ILogger<IngestStage> logger;
    private readonly IHistoryRestartState? store;
    private readonly StageHealth.Stage stage;
    private readonly WindowAssembler assembler;
    private readonly TopicPattern topics;
    private readonly Dictionary<string, long> lastSeen = new(StringComparer.Ordinal);
    private long nextSweep;

    public IngestStage(
        IOptions<MonitorOptions> options, LiveQueues queues, AcknowledgementTracker tracker, IResultPublisher publisher, ISampleDecoder decoder,
        LiveModel model, LiveMetrics metrics, StageHealth health, TimeProvider time, ILogger<IngestStage> logger, IHistoryRestartState? store = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(health);
        this.options = options.Value;
        this.queues = queues;
        this.tracker = tracker;
        this.publisher = publisher;
        this.decoder = decoder;
        this.model = model;
        this.metrics = metrics;
        this.time = time;
        this.logger = logger;
        this.store = options.Value.History.Enabled ? store : null;
        stage = health.Register(StageName);
        topics = this.options.Mqtt.Topics();
        assembler = new WindowAssembler(
            new WindowSettings { Length = model.Metadata.WindowLength, Hop = this.options.Hop, MaxGap = TimeSpan.FromSeconds(this.options.MaxGapSeconds) },
            model.Metadata.Channels.Count);
    }

    /// <summary>Machines the stage holds state for now.</summary>
    public int Machines => lastSeen.Count;

    /// <summary>Restores each machine's partial window from the history before the gateway connects.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Cluster mode: a machine's partial window is restored when this node first gets its samples (RestoreOwnedAsync).
        if (store is not null && !options.Cluster.Enabled)
        {
            var checkpoints = await store.LoadCheckpointsAsync(cancellationToken).ConfigureAwait(false);
            long now = time.GetTimestamp();
            foreach (var checkpoint in checkpoints)
            {
                try
                {
                    assembler.Restore(checkpoint);
                    lastSeen[checkpoint.Machine] = now;
                }
                catch (ArgumentException ex)
                {
                    LogCheckpointRefused(logger, checkpoint.Machine, ex.Message);
                }
            }

            metrics.Machines.Set(lastSeen.Count);
            if (checkpoints.Count > 0)
            {
                LogRestored(logger, lastSeen.Count);
            }
        }

        nextSweep = time.GetTimestamp() + SweepInterval;
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    private long SweepInterval => (long)(Math.Clamp(options.MachineIdleSeconds / 4, 0.05, 10) * time.TimestampFrequency);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Runs until the gateway completes the ingest queue at shutdown (not on this service's own stop signal),
        // then completes the processor's queue so it drains in turn.
        var reader = queues.Ingest.Reader;
        int groupSize = Math.Min(MaxGroupSize, options.IngestCapacity);
        var group = new List<InFlightMessage>(groupSize);
        var touched = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            while (await WaitForInputAsync(reader).ConfigureAwait(false))
            {
                if (reader.Count == 0)
                {
                    // Nothing arrived for a sweep interval: idle machines are still forgotten.
                    await SweepIdleAsync().ConfigureAwait(false);
                    continue;
                }

                group.Clear();
                touched.Clear();
                while (group.Count < groupSize && reader.TryRead(out var message))
                {
                    group.Add(message);
                }

                stage.Waiting(reader.Count + group.Count);
                var checkpointed = new List<InFlightMessage>(group.Count);
                foreach (var message in group)
                {
                    if (await HandleContainedAsync(message, touched).ConfigureAwait(false))
                    {
                        checkpointed.Add(message);
                    }
                }

                await CheckpointAsync(touched, checkpointed).ConfigureAwait(false);
                foreach (var message in group)
                {
                    message.Decoded = true;
                }

                await SweepIdleAsync().ConfigureAwait(false);
                tracker.Request();
                stage.Progress();
                stage.Waiting(reader.Count);
                metrics.QueueDepth.Set(queues.Items.Reader.Count);
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
            queues.Items.Writer.TryComplete();
        }
    }

    /// <summary>True when input waits or a sweep interval passed without any; false once the queue is completed and empty.</summary>
    private async Task<bool> WaitForInputAsync(System.Threading.Channels.ChannelReader<InFlightMessage> reader)
    {
        using var sweep = new CancellationTokenSource(TimeSpan.FromSeconds(SweepInterval / (double)time.TimestampFrequency), time);
        try
        {
            return await reader.WaitToReadAsync(sweep.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    /// <summary>Handles one message; any exception is contained to it. True when it added samples to a machine.</summary>
    private async Task<bool> HandleContainedAsync(InFlightMessage message, HashSet<string> touched)
    {
        try
        {
            return await HandleAsync(message, touched).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await DeadLetterAsync(message, "ingest_failure", $"{ex.GetType().Name}: {ex.Message}", machine: null).ConfigureAwait(false);
            return false;
        }
    }

    private async Task<bool> HandleAsync(InFlightMessage message, HashSet<string> touched)
    {
        var result = Decode(message);
        foreach (var command in result.Commands)
        {
            // A decoder's request to a source (a Sparkplug rebirth), sent even when it refused the message.
            await publisher.PublishAsync(command.Topic, command.Payload.ToArray(), command.Retain, CancellationToken.None).ConfigureAwait(false);
        }

        if (result.IsRejected)
        {
            string? machine = result.Samples.Count > 0 ? result.Samples[0].Machine : null;
            await DeadLetterAsync(message, ReasonCode(result.Reason!.Value), result.Detail!, machine).ConfigureAwait(false);
            return false;
        }

        // A message naming a machine the monitor cannot take on is refused whole, before any of its samples is used.
        foreach (var sample in result.Samples)
        {
            if (!lastSeen.ContainsKey(sample.Machine) && lastSeen.Count >= options.MaxMachines && !touched.Contains(sample.Machine))
            {
                await DeadLetterAsync(message, "too_many_machines",
                    $"machine '{sample.Machine}' would be machine {lastSeen.Count + 1}; Monitor:MaxMachines is {options.MaxMachines} (idle machines are forgotten after MachineIdleSeconds)", null).ConfigureAwait(false);
                return false;
            }
        }

        if (message.Redelivered)
        {
            metrics.MessagesRedelivered.Inc();
        }

        await RestoreOwnedAsync(result.Samples).ConfigureAwait(false);

        var completed = new List<AssembledWindow>();
        long now = time.GetTimestamp();
        bool added = false;
        foreach (var sample in result.Samples)
        {
            var previous = assembler.LastTimestamp(sample.Machine);
            lastSeen[sample.Machine] = now;
            touched.Add(sample.Machine);
            completed.Clear();
            switch (assembler.Add(sample, completed))
            {
                case SampleOutcome.OutOfOrder:
                    // A redelivered message repeats samples already assembled (its windows were published and
                    // stored, or they are in the restored checkpoint): not counted as disorder.
                    metrics.SamplesDropped.WithLabels(message.Redelivered ? "redelivered" : "out_of_order").Inc();
                    continue;
                case SampleOutcome.AcceptedAfterGap:
                    metrics.WindowResets.Inc();
                    message.AddPending();
                    await queues.Items.Writer.WriteAsync(new GapItem(InsufficientData(sample, previous!.Value), message)).ConfigureAwait(false);
                    break;
            }

            added = true;
            foreach (var window in completed)
            {
                message.AddPending();
                await queues.Items.Writer.WriteAsync(new WindowItem(window, message)).ConfigureAwait(false);
            }
        }

        foreach (var reset in result.Resets)
        {
            added |= await ResetAsync(reset, message, touched).ConfigureAwait(false);
        }

        metrics.Machines.Set(lastSeen.Count);
        return added;
    }

    /// <summary>
    /// Cluster mode: the checkpointed partial window of each machine in <paramref name="samples"/> this node holds no
    /// state for (it has just come to own the machine, after a failover or a move), so its stream resumes where the
    /// previous owner left it.
    /// </summary>
    private async Task RestoreOwnedAsync(IReadOnlyList<Sample> samples)
    {
        if (store is null || !options.Cluster.Enabled)
        {
            return;
        }

        var arrived = samples.Select(s => s.Machine).Where(m => !lastSeen.ContainsKey(m)).ToHashSet(StringComparer.Ordinal);
        if (arrived.Count == 0)
        {
            return;
        }

        long now = time.GetTimestamp();
        foreach (string machine in arrived)
        {
            if (await store.LoadCheckpointAsync(machine, CancellationToken.None).ConfigureAwait(false) is not { } checkpoint)
            {
                continue;
            }

            try
            {
                assembler.Restore(checkpoint);
                lastSeen[machine] = now;
            }
            catch (ArgumentException ex)
            {
                LogCheckpointRefused(logger, machine, ex.Message);
            }
        }
    }

    /// <summary>
    /// The source of a machine said it is gone (a Sparkplug DDEATH or NDEATH): its partial window is discarded and an
    /// insufficient_data result says so. True when the machine had one (its checkpoint goes too).
    /// </summary>
    private async Task<bool> ResetAsync(MachineReset reset, InFlightMessage message, HashSet<string> touched)
    {
        metrics.MachineResets.WithLabels(reset.Reason).Inc();
        if (assembler.LastTimestamp(reset.Machine) is not { } previous)
        {
            return false;
        }

        int needed = model.Metadata.WindowLength;
        assembler.Remove(reset.Machine);
        touched.Add(reset.Machine);
        var now = time.GetUtcNow();
        LogReset(logger, reset.Machine, reset.Reason);
        if (lastSeen.ContainsKey(reset.Machine))
        {
            metrics.InsufficientData.WithLabels(reset.Machine).Inc();
        }

        message.AddPending();
        await queues.Items.Writer.WriteAsync(new GapItem(
            new InsufficientDataMessage(model.ResultId(reset.Machine, now) + ":reset", reset.Machine, model.Version, "insufficient_data", previous, now,
                (now - previous).TotalSeconds, options.MaxGapSeconds, needed, null, null, reset.Reason),
            message)).ConfigureAwait(false);
        return true;
    }

    /// <summary>Decodes with the registered decoder; a decoder that throws refuses the message, it never stops the stage.</summary>
    private DecodeResult Decode(InFlightMessage message)
    {
        if (message.Predecoded is { } decoded)
        {
            return decoded;
        }

        try
        {
            return decoder.Decode(message.Topic, message.Payload);
        }
        catch (Exception ex)
        {
            return DecodeResult.Rejected(RejectionReason.DecoderFailure, $"the decoder failed with {ex.GetType().FullName}: {ex.Message}");
        }
    }

    /// <summary>
    /// Queues the partial windows of the machines this group of messages touched, after the group's windows, and
    /// makes the messages wait for it (with the history disabled nothing is durable and nothing waits).
    /// </summary>
    private async Task CheckpointAsync(HashSet<string> touched, List<InFlightMessage> sources)
    {
        if (store is null || touched.Count == 0)
        {
            return;
        }

        var checkpoints = new List<WindowCheckpoint>(touched.Count);
        var removed = new List<string>();
        foreach (string machine in touched)
        {
            if (assembler.Checkpoint(machine) is { } checkpoint)
            {
                checkpoints.Add(checkpoint);
            }
            else
            {
                removed.Add(machine); // reset and not resumed: its stored partial window is void
            }
        }

        foreach (var source in sources)
        {
            source.AddPending();
        }

        await queues.Items.Writer.WriteAsync(new CheckpointItem(checkpoints, sources) { Removed = removed }).ConfigureAwait(false);
    }

    /// <summary>Forgets machines silent for longer than MachineIdleSeconds: buffer, alert, Prometheus series and checkpoint.</summary>
    private async Task SweepIdleAsync()
    {
        long now = time.GetTimestamp();
        if (now < nextSweep)
        {
            return;
        }

        nextSweep = now + SweepInterval;
        long idleTicks = (long)(options.MachineIdleSeconds * time.TimestampFrequency);
        var idle = lastSeen.Where(p => now - p.Value >= idleTicks).Select(p => p.Key).ToList();
        foreach (string machine in idle)
        {
            lastSeen.Remove(machine);
            assembler.Remove(machine);
            metrics.ForgetMachine(machine);
            metrics.MachinesEvicted.Inc();
            LogEvicted(logger, machine, options.MachineIdleSeconds);
            await queues.Items.Writer.WriteAsync(new EvictItem(machine, time.GetUtcNow())).ConfigureAwait(false);
        }

        metrics.Machines.Set(lastSeen.Count);
    }

    private async Task DeadLetterAsync(InFlightMessage message, string reason, string detail, string? machine)
    {
        metrics.MessagesRejected.WithLabels(reason).Inc();
        machine ??= topics.MachineOf(message.Topic);
        if (machine is not null && lastSeen.ContainsKey(machine))
        {
            // Per machine only for machines the monitor holds (bounded), so a flood of names cannot grow the series.
            metrics.MachineMessagesRejected.WithLabels(machine, reason).Inc();
        }

        LogRejected(logger, message.Topic, reason, detail);
        var payload = message.Payload;
        var letter = new DeadLetterMessage(message.Topic, reason, detail, time.GetUtcNow(), payload.Length,
            Encoding.UTF8.GetString(payload, 0, Math.Min(payload.Length, 1024)));
        await publisher.PublishAsync($"{options.Mqtt.OutputPrefix}/deadletter", JsonSerializer.SerializeToUtf8Bytes(letter, LiveJsonContext.Default.DeadLetterMessage), false, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// A gap longer than MaxGapSeconds discarded the machine's earlier samples: the processor says so on its explanation
    /// topic with reason code insufficient_data instead of scoring a window that would join samples across the gap.
    /// </summary>
    private InsufficientDataMessage InsufficientData(Sample sample, DateTimeOffset previous)
    {
        int needed = assembler.SamplesUntilNextWindow(sample.Machine);
        double seconds = (sample.Timestamp - previous).TotalSeconds;
        metrics.InsufficientData.WithLabels(sample.Machine).Inc();
        LogGap(logger, sample.Machine, seconds, needed);
        return new InsufficientDataMessage(
            model.ResultId(sample.Machine, sample.Timestamp) + ":gap",
            sample.Machine, model.Version, "insufficient_data", previous, sample.Timestamp, seconds, options.MaxGapSeconds, needed, null, null);
    }

    /// <summary>The reason's code on the dead-letter topic and in metrics: its name in snake case (MalformedJson: malformed_json).</summary>
    internal static string ReasonCode(RejectionReason reason)
    {
        string name = reason.ToString();
        var code = new System.Text.StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                code.Append('_');
            }

            code.Append(char.ToLowerInvariant(name[i]));
        }

        return code.ToString();
    }

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Rejected message on {Topic} ({Reason}): {Detail}")]
    private static partial void LogRejected(ILogger logger, string topic, string reason, string detail);

    [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "{Machine} was silent for {Seconds:F1} s: its window restarts (insufficient_data until {Needed} more samples)")]
    private static partial void LogGap(ILogger logger, string machine, double seconds, int needed);

    [LoggerMessage(EventId = 208, Level = LogLevel.Information, Message = "Forgot machine {Machine}: silent for more than {Seconds} s (MachineIdleSeconds)")]
    private static partial void LogEvicted(ILogger logger, string machine, double seconds);

    [LoggerMessage(EventId = 209, Level = LogLevel.Information, Message = "Restored the partial windows of {Machines} machines from the history")]
    private static partial void LogRestored(ILogger logger, int machines);

    [LoggerMessage(EventId = 210, Level = LogLevel.Warning, Message = "Ignored the stored partial window of {Machine}: {Error}")]
    private static partial void LogCheckpointRefused(ILogger logger, string machine, string error);

    [LoggerMessage(EventId = 211, Level = LogLevel.Critical, Message = "The ingest stage stopped on an exception it could not contain")]
    private static partial void LogStageDied(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 212, Level = LogLevel.Information, Message = "The partial window of {Machine} was discarded: its source is gone ({Reason})")]
    private static partial void LogReset(ILogger logger, string machine, string reason);
}
