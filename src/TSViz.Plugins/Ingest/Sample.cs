namespace TSViz.Plugins.Ingest;

/// <summary>One time step of one machine: a value per model channel, in the model's channel order.</summary>
/// <param name="Machine">
/// The machine id, as the decoder derives it from the topic (<see cref="TopicPattern.MachineOf"/>, or the Sparkplug
/// group, edge node and device ids joined with '/').
/// </param>
/// <param name="Timestamp">When the values were taken, in UTC.</param>
/// <param name="Values">
/// One value per channel, in the model's channel order, raw (not yet preprocessed); the built-in decoders only give
/// finite values.
/// </param>
public sealed record Sample(string Machine, DateTimeOffset Timestamp, float[] Values);

/// <summary>Why a message was refused; each reason is counted and named on the dead-letter topic.</summary>
/// <remarks>
/// The names are part of the monitor's contract: the dead-letter topic and the metrics carry each as snake_case
/// (<c>MalformedJson</c> as <c>malformed_json</c>), so renaming a reason changes what their consumers see.
/// </remarks>
public enum RejectionReason
{
    /// <summary>
    /// The payload is not one JSON value in UTF-8: empty, not UTF-8, a syntax error, something after the value, or a
    /// string or field name that is not valid Unicode (an escaped lone surrogate).
    /// </summary>
    MalformedJson,

    /// <summary>
    /// A value of the wrong kind: the payload or a sample not an object, <c>"samples"</c> not an array, a channel
    /// value not a number, <c>"ts"</c> missing or neither ISO 8601 nor Unix milliseconds. From Sparkplug: a channel
    /// metric whose value is not a number of its datatype, or with no timestamp and none on the payload.
    /// </summary>
    WrongType,

    /// <summary>
    /// A sample lacks one of the model's channels. From Sparkplug: a channel with no value to carry forward (null in
    /// the birth or since), or a birth that declares no metric for a channel.
    /// </summary>
    MissingChannel,

    /// <summary>A sample carries a field that is neither <c>"ts"</c> nor one of the model's channels.</summary>
    UnknownChannel,

    /// <summary>
    /// A channel value is NaN or infinite (also written as a string), or beyond the range of a float.
    /// </summary>
    NonFiniteValue,

    /// <summary>
    /// A sample is stamped further behind the monitor's clock than the decoder's <c>MaxClockSkew</c> allows (one
    /// day by default).
    /// </summary>
    AbsurdTimestamp,

    /// <summary>The payload is larger than the decoder's <c>MaxPayloadBytes</c>; it is refused unread.</summary>
    OversizePayload,

    /// <summary>
    /// The topic is missing or does not fit the decoder: for JSON, not a topic of the configured
    /// <see cref="TopicPattern"/>; for Sparkplug, not a Sparkplug B topic.
    /// </summary>
    UnexpectedTopic,

    /// <summary>A batch whose <c>"samples"</c> array is empty.</summary>
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
/// <param name="Samples">
/// The message's samples, in the order the decoder read them; empty when the message was refused or carried none.
/// </param>
/// <param name="Reason">Why the message was refused; null when it was accepted.</param>
/// <param name="Detail">
/// What exactly was wrong, for a log line and the dead-letter topic (values quoted from the message are cut short);
/// null when the message was accepted.
/// </param>
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

    /// <summary>
    /// A refused message: no samples, <paramref name="reason"/> and <paramref name="detail"/>. Its
    /// <see cref="Resets"/> and <see cref="Commands"/> are empty; set them with <c>with { ... }</c>.
    /// </summary>
    /// <param name="reason">Why the message is refused.</param>
    /// <param name="detail">
    /// What was wrong, readable by a person; it should be well-formed UTF-16 (it is written to JSON).
    /// </param>
    public static DecodeResult Rejected(RejectionReason reason, string detail) => new([], reason, detail);

    /// <summary>
    /// True when the message was refused (<see cref="Reason"/> is set); its <see cref="Samples"/> are then empty.
    /// </summary>
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
    /// Decodes one message. Never throws: whatever the topic and payload, it returns a result, and a message it
    /// cannot use is refused whole with a <see cref="RejectionReason"/> and a detail (the caller dead-letters it and
    /// goes on). Stateful decoders are called from one thread (the ingest stage), in arrival order.
    /// </summary>
    /// <param name="topic">The MQTT topic the message was published on.</param>
    /// <param name="payload">The message's bytes, valid only during the call.</param>
    /// <returns>The samples, or the rejection, with any resets and commands for the caller.</returns>
    DecodeResult Decode(string topic, ReadOnlySpan<byte> payload);
}
