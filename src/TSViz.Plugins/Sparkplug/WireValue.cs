namespace TSViz.Plugins.Sparkplug;

/// <summary>Which field of a metric's <c>value</c> oneof is set on the wire.</summary>
internal enum WireKind
{
    None,

    /// <summary><c>int_value</c> (uint32).</summary>
    Int,

    /// <summary><c>long_value</c> (uint64).</summary>
    Long,
    Float,
    Double,
    Boolean,
    String,

    /// <summary>bytes, a data set, a template or an extension: kept as a kind only.</summary>
    Other,
}

/// <summary>
/// A metric's value as it is on the wire: which oneof field, and its content (<see cref="Bits"/> for the integer and
/// boolean fields, <see cref="Real"/> for float and double, <see cref="Text"/> for strings). What it means depends on
/// the metric's datatype, which a data message may leave to the birth (see <see cref="SparkplugMetric"/>).
/// </summary>
internal readonly record struct WireValue(WireKind Kind, ulong Bits = 0, double Real = 0, string? Text = null)
{
    public static readonly WireValue None = new(WireKind.None);

    /// <summary>Describes the value for a rejection detail.</summary>
    public override string ToString() => Kind switch
    {
        WireKind.None => "no value",
        WireKind.Int => $"int_value {(uint)Bits}",
        WireKind.Long => $"long_value {Bits}",
        WireKind.Float => $"float_value {(float)Real:R}",
        WireKind.Double => $"double_value {Real:R}",
        WireKind.Boolean => $"boolean_value {Bits != 0}",
        WireKind.String => $"string_value \"{SparkplugText.Quote(Text ?? string.Empty)}\"",
        _ => "a bytes, data set or template value",
    };
}
