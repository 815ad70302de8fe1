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
}

/// <summary>The samples of one message, or why it was refused (with a human-readable detail).</summary>
public sealed record DecodeResult(IReadOnlyList<Sample> Samples, RejectionReason? Reason, string? Detail)
{
    public static DecodeResult Rejected(RejectionReason reason, string detail) => new([], reason, detail);

    public bool IsRejected => Reason is not null;
}

/// <summary>
/// Turns an MQTT message into samples. Plants implement this for their gateway's payload (Sparkplug B, vendor JSON)
/// and register it instead of the built-in JSON decoder.
/// </summary>
public interface ISampleDecoder
{
    DecodeResult Decode(string topic, ReadOnlySpan<byte> payload);
}
