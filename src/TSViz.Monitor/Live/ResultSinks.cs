namespace TSViz.Monitor.Live;

/// <summary>
/// One result of the live path as the sinks receive it: the machine, its kind ("explanation" or "alert"), the JSON
/// payload of the tsviz/v1 contract and whether it is retained, with the message it was made from, so that a sink
/// speaking another format (Sparkplug B) maps the fields rather than parse the JSON again. Exactly one of the
/// messages is set.
/// </summary>
internal sealed record LiveResult(string Machine, string Kind, byte[] Json, bool Retain)
{
    public ExplanationMessage? Explanation { get; init; }

    public UnexplainedMessage? Unexplained { get; init; }

    public InsufficientDataMessage? Gap { get; init; }

    public AlertMessage? Alert { get; init; }
}

/// <summary>
/// A destination of the live path's results other than the history: the tsviz/v1 topics and the Unified Namespace
/// mirror (<see cref="MqttResultSink"/>), or an edge node of another protocol. The processor hands every result
/// to every sink and awaits them all before it gives the records to the history, so input is acknowledged only
/// once each sink has taken its results. A sink retries as long as it needs to (as the MQTT gateway does while the
/// broker is away) and throws only when cancelled.
/// </summary>
internal interface IResultSink
{
    Task PublishAsync(LiveResult result, CancellationToken cancellationToken);
}

/// <summary>The results on {OutputPrefix}/{machine}/{kind}, and on the Unified Namespace mirror when it is on.</summary>
internal sealed class MqttResultSink(IResultPublisher publisher) : IResultSink
{
    public Task PublishAsync(LiveResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        var published = publisher.PublishAsync(publisher.Topic(result.Machine, result.Kind), result.Json, result.Retain, cancellationToken);
        return publisher.MirrorTopic(result.Machine, result.Kind) is { } mirror
            ? Task.WhenAll(published, publisher.PublishAsync(mirror, result.Json, result.Retain, cancellationToken))
            : published;
    }
}
