namespace TSViz.Monitor.Live;

/// <summary>
/// An input message not yet acknowledged. It is acknowledged once it is decoded and every item derived from it
/// (its windows, gap notices and the checkpoint of the machines it touched) is published and stored.
/// </summary>
internal sealed class InFlightMessage
{
    private readonly Func<CancellationToken, Task> acknowledge;
    private readonly Func<bool> stillDeliverable;
    private int pending;

    /// <param name="topic">The topic it arrived on.</param>
    /// <param name="payload">Its payload (copied out of the client's buffers).</param>
    /// <param name="redelivered">The broker's DUP flag.</param>
    /// <param name="receivedTimestamp">TimeProvider timestamp of its arrival.</param>
    /// <param name="acknowledge">Sends the acknowledgement (a no-op for QoS 0).</param>
    /// <param name="stillDeliverable">
    /// False once the connection it arrived on is gone: an acknowledgement can only travel on that connection; the
    /// broker redelivers the message on the next one.
    /// </param>
    public InFlightMessage(string topic, byte[] payload, bool redelivered, long receivedTimestamp, Func<CancellationToken, Task> acknowledge, Func<bool> stillDeliverable)
    {
        Topic = topic;
        Payload = payload;
        Redelivered = redelivered;
        ReceivedTimestamp = receivedTimestamp;
        this.acknowledge = acknowledge;
        this.stillDeliverable = stillDeliverable;
    }

    public string Topic { get; }

    public byte[] Payload { get; }

    public bool Redelivered { get; }

    public long ReceivedTimestamp { get; }

    /// <summary>
    /// Samples decoded already (cluster mode: by the node that received them, then put in timestamp order by the
    /// machine's owner); the ingest stage uses them instead of decoding <see cref="Payload"/>.
    /// </summary>
    public TSViz.Plugins.Ingest.DecodeResult? Predecoded { get; init; }

    /// <summary>Set by the ingest stage once the message is decoded (or refused) and its items are queued.</summary>
    public bool Decoded { get; set; }

    /// <summary>Items derived from it that are not yet durable.</summary>
    public int Pending => Volatile.Read(ref pending);

    public bool StillDeliverable => stillDeliverable();

    public void AddPending() => Interlocked.Increment(ref pending);

    public void PendingDone() => Interlocked.Decrement(ref pending);

    public Task AcknowledgeAsync(CancellationToken cancellationToken) => acknowledge(cancellationToken);
}
