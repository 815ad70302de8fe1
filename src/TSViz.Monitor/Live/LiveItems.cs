using TSViz.Plugins.Windows;

namespace TSViz.Monitor.Live;

/// <summary>What the ingest stage hands the processor, in stream order.</summary>
internal abstract record LiveItem;

/// <summary>A full window to score and explain, with the message whose sample completed it.</summary>
internal sealed record WindowItem(AssembledWindow Window, InFlightMessage Source) : LiveItem;

/// <summary>A gap reset the machine's window: published as insufficient_data between the windows before and after it.</summary>
internal sealed record GapItem(InsufficientDataMessage Notice, InFlightMessage Source) : LiveItem;

/// <summary>
/// The partial windows of the machines a group of messages touched, as they stand after those messages: written
/// with (or after) the history records of every window queued before it, and only then are the messages released
/// for acknowledgement. A monitor killed at any moment restarts from the last written checkpoint, and the broker
/// redelivers exactly the messages after it.
/// </summary>
internal sealed record CheckpointItem(IReadOnlyList<WindowCheckpoint> Checkpoints, IReadOnlyList<InFlightMessage> Sources) : LiveItem
{
    /// <summary>Machines the messages left without a partial window (their source is gone): their stored one is removed.</summary>
    public IReadOnlyList<string> Removed { get; init; } = [];
}

/// <summary>A machine idle for longer than MachineIdleSeconds was forgotten: its alert closes, its series and checkpoint go.</summary>
internal sealed record EvictItem(string Machine, DateTimeOffset At) : LiveItem;
