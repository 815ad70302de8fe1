namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// The two counters of a Sparkplug edge node (Sparkplug 3.0.0, sections 5.2 and 6.4.3). <c>seq</c> numbers every
/// message of the edge node's session except NDEATH, nodes and devices together: NBIRTH carries 0 and each message one
/// more, 255 wrapping to 0. <c>bdSeq</c> ties an NBIRTH to the NDEATH of the same MQTT session (the will set in that
/// CONNECT): 0 on the first connection, one more on every new CONNECT, wrapping from 255 to 0 as well, and unchanged
/// by a rebirth within a session.
/// </summary>
public static class SparkplugSequence
{
    /// <summary>Both counters count modulo 256.</summary>
    public const int Modulus = 256;

    /// <summary>The seq of an NBIRTH.</summary>
    public const byte BirthSeq = 0;

    /// <summary>The seq (or bdSeq) that follows <paramref name="value"/>.</summary>
    public static byte Next(byte value) => unchecked((byte)(value + 1));

    /// <summary>Whether <paramref name="received"/> is the seq that follows <paramref name="previous"/>.</summary>
    public static bool Follows(byte previous, ulong received) => received == Next(previous);

    /// <summary>Whether a seq as read from the wire is in range (0-255).</summary>
    public static bool IsValid(ulong seq) => seq < Modulus;
}
