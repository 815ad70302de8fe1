using System.Threading.Channels;
using Microsoft.Extensions.Options;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>
/// The bounded hand-overs between the live stages: gateway to ingest (received messages) and ingest to processor
/// (windows, gap notices, checkpoints, evictions). A stage never calls back into the one before it.
/// </summary>
internal sealed class LiveQueues(IOptions<MonitorOptions> options)
{
    private readonly bool cluster = options.Value.Cluster.Enabled;

    /// <summary>
    /// Cluster mode: received messages waiting to be handed to their machines' owners (the input router); the ingest
    /// queue then takes what owners are handed. Unused alone.
    /// </summary>
    public Channel<InFlightMessage> Route { get; } = Channel.CreateBounded<InFlightMessage>(
        new BoundedChannelOptions(options.Value.IngestCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>Where the gateway writes what it receives: the ingest queue alone, the route queue in cluster mode.</summary>
    public Channel<InFlightMessage> Input => cluster ? Route : Ingest;

    /// <summary>Received messages waiting to be decoded.</summary>
    public Channel<InFlightMessage> Ingest { get; } = Channel.CreateBounded<InFlightMessage>(
        new BoundedChannelOptions(options.Value.IngestCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>Items waiting to be scored, explained, published and stored.</summary>
    public Channel<LiveItem> Items { get; } = Channel.CreateBounded<LiveItem>(
        new BoundedChannelOptions(options.Value.QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the processor has published and stored everything the ingest stage queued (shutdown).</summary>
    public Task Drained => drained.Task;

    public void MarkDrained() => drained.TrySetResult();
}
