namespace TSViz.Plugins.Ingest;

/// <summary>One time step of one machine: a value per model channel, in the model's channel order.</summary>
public sealed record Sample(string Machine, DateTimeOffset Timestamp, float[] Values);

/// <summary>Why a message was refused; each reason is counted and named on the dead-letter topic.</summary>
public enum RejectionReason
{
    MalformedJson,
    WrongType,
    MissingChannel,
    UnknownChannel,
    NonFiniteValue,
    AbsurdTimestamp,
    OversizePayload,
    UnexpectedTopic,
    EmptyBatch,

    /// <summary>
    /// The decoder itself failed on the message (a case none of the reasons above caught); the detail names the
    /// exception. The message is refused so that the ingest loop goes on.
    /// </summary>
    DecoderFailure,

    /// <summary>A sample is stamped further ahead of the monitor's clock than <see cref="JsonDecoderSettings.MaxFutureSkew"/>.</summary>
    FutureTimestamp,

    /// <summary>A field appears twice in one JSON object, so which value was meant is unknown.</summary>
    DuplicateField,

    /// <summary>
    /// The decoder would have to hold state for more machines (or Sparkplug edge nodes and devices) than it is allowed to;
    /// the same code the ingest stage uses when it refuses a machine beyond Monitor:MaxMachines.
    /// </summary>
    TooManyMachines,

    /// <summary>The bytes are not a Sparkplug B payload (protobuf), or hold a time beyond the year 9999.</summary>
    SparkplugMalformedPayload,

    /// <summary>
    /// Sparkplug data (or a DBIRTH) from an edge node or device whose birth the decoder has not seen, or naming a metric
    /// or alias its birth did not declare: the decoder's view is stale, so the result also asks for a rebirth.
    /// </summary>
    SparkplugNoBirth,

    /// <summary>A Sparkplug NBIRTH or DBIRTH the decoder cannot use: a metric without a name, an alias or name given twice,
    /// a channel's metric without a numeric datatype, an NBIRTH without a seq of 0-255.</summary>
    SparkplugInvalidBirth,
}

/// <summary>
/// The samples of one message, or why it was refused (with a human-readable detail). A stateful decoder may also ask
/// its caller to forget machines (<see cref="Resets"/>) and to publish messages (<see cref="Commands"/>); both are empty
/// unless a decoder fills them, and both hold whether or not the message was refused (a refused Sparkplug message may
/// still ask for a rebirth).
/// </summary>
public sealed record DecodeResult(IReadOnlyList<Sample> Samples, RejectionReason? Reason, string? Detail)
{
    /// <summary>A message accepted with nothing to add (a birth, a death, data of no monitored machine).</summary>
    public static DecodeResult Empty { get; } = new([], null, null);

    /// <summary>
    /// Machines whose source went away (a Sparkplug DDEATH or NDEATH): the caller starts them afresh, as after a gap,
    /// after this message's samples (a message that resets a machine carries none of its samples).
    /// </summary>
    public IReadOnlyList<MachineReset> Resets { get; init; } = [];

    /// <summary>Messages the caller publishes, after handling this one (a Sparkplug rebirth request).</summary>
    public IReadOnlyList<DecoderCommand> Commands { get; init; } = [];

    public static DecodeResult Rejected(RejectionReason reason, string detail) => new([], reason, detail);

    public bool IsRejected => Reason is not null;
}

/// <summary>A machine the caller should start afresh: its partial window and carried state no longer continue.</summary>
/// <param name="Machine">The machine id, as the decoder's samples name it.</param>
/// <param name="Reason">Why, as a snake_case code for logs and metrics (for instance <c>sparkplug_ddeath</c>).</param>
public sealed record MachineReset(string Machine, string Reason);

/// <summary>A message a decoder asks its caller to publish on the broker the input came from.</summary>
/// <param name="Topic">The topic to publish on.</param>
/// <param name="Payload">The payload bytes, as they go on the wire.</param>
/// <param name="QualityOfService">The MQTT QoS (Sparkplug commands: 0).</param>
/// <param name="Retain">Whether the broker retains it (Sparkplug commands: never).</param>
public sealed record DecoderCommand(string Topic, ReadOnlyMemory<byte> Payload, int QualityOfService = 0, bool Retain = false);

/// <summary>
/// Turns an MQTT message into samples. Plants implement this for their gateway's payload (Sparkplug B, vendor JSON)
/// and register it instead of the built-in JSON decoder.
/// </summary>
public interface ISampleDecoder
{
    /// <summary>
    /// The MQTT topic filters the decoder's input arrives on. Empty (the default) leaves the subscription to the caller's
    /// own configuration (the monitor's Mqtt:TopicPattern); a decoder for a fixed topic namespace, such as Sparkplug's,
    /// names its filters here.
    /// </summary>
    IReadOnlyList<string> SubscriptionFilters => [];

    /// <summary>
    /// Decodes one message. Never throws: whatever the topic and payload, it returns a result. Stateful decoders are
    /// called from one thread (the ingest stage), in arrival order.
    /// </summary>
    DecodeResult Decode(string topic, ReadOnlySpan<byte> payload);
}
