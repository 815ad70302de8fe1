namespace TSViz.Monitor.Cluster;

/// <summary>
/// A machine of the plant, one activation in the whole cluster: the node it is active on owns the machine (its window
/// buffer, alert episode and peak live in that node's stages, checkpointed in the history), so every sample of the
/// machine, whichever node received it, is assembled in one place and in timestamp order.
/// </summary>
[Alias("tsviz.IMachineGrain")]
public interface IMachineGrain : IGrainWithStringKey
{
    /// <summary>
    /// Takes samples a node received; completes once they are durable on the owner (assembled, checkpointed, and every
    /// window they completed explained, published and stored). Until then the receiving node keeps the message
    /// unacknowledged, so a failure anywhere on the way means redelivery, never loss.
    /// </summary>
    [Alias("Ingest")]
    Task Ingest(MachineSamples samples);
}
