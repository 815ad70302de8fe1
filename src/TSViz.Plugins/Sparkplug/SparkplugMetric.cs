using System.Diagnostics.CodeAnalysis;

namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// One metric of a Sparkplug B payload: name (births) or alias (data), timestamp, datatype and value, or an explicit
/// null (<see cref="IsNull"/>). Build one with the factory of its datatype (<see cref="Double(string?, double)"/>,
/// <see cref="Int8(string?, sbyte)"/>, ...) and <c>with { Alias = ..., Timestamp = ... }</c>; read one with the
/// <c>TryGet...</c> methods, which read the value as its <see cref="DataType"/> says. A factory's <c>name</c> is null
/// for a metric that a data message names by its alias alone.
/// </summary>
/// <remarks>
/// Where each datatype lives on the wire (Sparkplug 3.0.0, section 6.4.16): Int8, Int16, Int32, UInt8 and UInt16 in
/// <c>int_value</c>, the signed ones as 32-bit two's complement (-1 is 0xFFFFFFFF); Int64, UInt64 and DateTime (Unix
/// milliseconds) in <c>long_value</c>, Int64 as 64-bit two's complement. UInt32 is written to <c>long_value</c>: the
/// specification's table gives uint32, but Eclipse Tahu's Java and JavaScript codecs both write <c>long_value</c>, and
/// the JavaScript one (sparkplug-payload) reads nothing else, so a UInt32 in <c>int_value</c> would not reach it.
/// Readers are lenient where producers are known to differ: any integer datatype is read from either integer field, a
/// signed 8- or 16-bit value may also come zero-extended (0xFF for -1), and Float and Double from either real field;
/// a value outside its datatype's range is not read at all.
/// </remarks>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Each factory is named after the Sparkplug datatype it builds.")]
public sealed record SparkplugMetric
{
    /// <summary>Unix milliseconds of <see cref="DateTimeOffset.MaxValue"/>: a larger Sparkplug time is none.</summary>
    internal static readonly ulong MaxUnixMilliseconds = (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private SparkplugMetric(string? name, SparkplugDataType? dataType, WireValue value, bool isNull)
    {
        Name = name;
        DataType = dataType;
        Value = value;
        IsNull = isNull;
    }

    /// <summary>The metric's name: required in births, left out of data messages that use aliases.</summary>
    public string? Name { get; init; }

    /// <summary>The alias a birth ties to the name; data messages may name the metric by it alone.</summary>
    public ulong? Alias { get; init; }

    /// <summary>When the value was acquired (UTC, millisecond precision on the wire).</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>The datatype, or null when the message left it out (a data message may: the birth declared it).</summary>
    public SparkplugDataType? DataType { get; init; }

    /// <summary>True when the value is explicitly null (Sparkplug's <c>is_null</c>); there is no value then.</summary>
    public bool IsNull { get; init; }

    /// <summary>The value as it is on the wire.</summary>
    internal WireValue Value { get; init; }

    /// <summary>An Int8, written to <c>int_value</c> as 32-bit two's complement (-1 as 0xFFFFFFFF).</summary>
    public static SparkplugMetric Int8(string? name, sbyte value) => Integer(name, SparkplugDataType.Int8, WireKind.Int, unchecked((uint)value));

    /// <summary>An Int16, written to <c>int_value</c> as 32-bit two's complement.</summary>
    public static SparkplugMetric Int16(string? name, short value) => Integer(name, SparkplugDataType.Int16, WireKind.Int, unchecked((uint)value));

    /// <summary>An Int32, written to <c>int_value</c> as 32-bit two's complement.</summary>
    public static SparkplugMetric Int32(string? name, int value) => Integer(name, SparkplugDataType.Int32, WireKind.Int, unchecked((uint)value));

    /// <summary>An Int64, written to <c>long_value</c> as 64-bit two's complement.</summary>
    public static SparkplugMetric Int64(string? name, long value) => Integer(name, SparkplugDataType.Int64, WireKind.Long, unchecked((ulong)value));

    /// <summary>A UInt8, written to <c>int_value</c>.</summary>
    public static SparkplugMetric UInt8(string? name, byte value) => Integer(name, SparkplugDataType.UInt8, WireKind.Int, value);

    /// <summary>A UInt16, written to <c>int_value</c>.</summary>
    public static SparkplugMetric UInt16(string? name, ushort value) => Integer(name, SparkplugDataType.UInt16, WireKind.Int, value);

    /// <summary>A UInt32, written to <c>long_value</c> as Tahu's codecs do (see the remarks of <see cref="SparkplugMetric"/>).</summary>
    public static SparkplugMetric UInt32(string? name, uint value) => Integer(name, SparkplugDataType.UInt32, WireKind.Long, value);

    /// <summary>A UInt64, written to <c>long_value</c>.</summary>
    public static SparkplugMetric UInt64(string? name, ulong value) => Integer(name, SparkplugDataType.UInt64, WireKind.Long, value);

    /// <summary>A Float, written to <c>float_value</c> (NaN and infinities as they are).</summary>
    public static SparkplugMetric Float(string? name, float value) => new(name, SparkplugDataType.Float, new WireValue(WireKind.Float, Real: value), false);

    /// <summary>A Double, written to <c>double_value</c> (NaN and infinities as they are).</summary>
    public static SparkplugMetric Double(string? name, double value) => new(name, SparkplugDataType.Double, new WireValue(WireKind.Double, Real: value), false);

    /// <summary>A Boolean, written to <c>boolean_value</c>.</summary>
    public static SparkplugMetric Boolean(string? name, bool value) => Integer(name, SparkplugDataType.Boolean, WireKind.Boolean, value ? 1UL : 0UL);

    /// <summary>A String, written to <c>string_value</c>; for no value use <see cref="Null"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    public static SparkplugMetric String(string? name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(name, SparkplugDataType.String, new WireValue(WireKind.String, Text: value), false);
    }

    /// <summary>A DateTime: Unix milliseconds, so not before 1970-01-01 and truncated to the millisecond.</summary>
    public static SparkplugMetric DateTime(string? name, DateTimeOffset value) => Integer(name, SparkplugDataType.DateTime, WireKind.Long, UnixMilliseconds(value));

    /// <summary>A metric of <paramref name="dataType"/> whose value is explicitly null.</summary>
    public static SparkplugMetric Null(string? name, SparkplugDataType dataType) => new(name, dataType, WireValue.None, true);

    /// <summary>A metric as read from the wire (the codec's constructor).</summary>
    internal static SparkplugMetric FromWire(string? name, SparkplugDataType? dataType, WireValue value, bool isNull) => new(name, dataType, value, isNull);

    /// <summary>The value of any integer, Float or Double datatype as a double (the nearest one for 64-bit integers).</summary>
    public bool TryGetDouble(out double value)
    {
        value = 0;
        if (IsNull)
        {
            return false;
        }

        switch (DataType)
        {
            case SparkplugDataType.Float or SparkplugDataType.Double when Value.Kind is WireKind.Float or WireKind.Double:
                value = Value.Real;
                return true;
            default:
                if (TryGetInteger(out var integer))
                {
                    value = (double)integer;
                    return true;
                }

                return false;
        }
    }

    /// <summary>The value of any integer datatype that fits a long.</summary>
    public bool TryGetInt64(out long value)
    {
        bool fits = TryGetInteger(out var integer) && integer >= long.MinValue && integer <= long.MaxValue;
        value = fits ? (long)integer : 0;
        return fits;
    }

    /// <summary>The value of any integer datatype that is not negative.</summary>
    public bool TryGetUInt64(out ulong value)
    {
        bool fits = TryGetInteger(out var integer) && integer >= 0;
        value = fits ? (ulong)integer : 0;
        return fits;
    }

    /// <summary>The value of a Boolean.</summary>
    public bool TryGetBoolean(out bool value)
    {
        bool read = !IsNull && DataType == SparkplugDataType.Boolean && Value.Kind == WireKind.Boolean;
        value = read && Value.Bits != 0;
        return read;
    }

    /// <summary>The value of a String, Text or UUID.</summary>
    public bool TryGetString([NotNullWhen(true)] out string? value)
    {
        bool read = !IsNull && DataType is SparkplugDataType.String or SparkplugDataType.Text or SparkplugDataType.Uuid && Value.Kind == WireKind.String;
        value = read ? Value.Text : null;
        return read;
    }

    /// <summary>The value of a DateTime (Unix milliseconds, UTC) within the range of <see cref="DateTimeOffset"/>.</summary>
    public bool TryGetDateTime(out DateTimeOffset value)
    {
        value = default;
        if (IsNull || DataType != SparkplugDataType.DateTime || Value.Kind != WireKind.Long || Value.Bits > MaxUnixMilliseconds)
        {
            return false;
        }

        value = DateTimeOffset.FromUnixTimeMilliseconds((long)Value.Bits);
        return true;
    }

    /// <summary>Unix milliseconds of a time not before the epoch (Sparkplug times are unsigned).</summary>
    internal static ulong UnixMilliseconds(DateTimeOffset time)
    {
        long milliseconds = time.ToUnixTimeMilliseconds();
        return milliseconds >= 0
            ? (ulong)milliseconds
            : throw new ArgumentOutOfRangeException(nameof(time), time, "Sparkplug times are milliseconds since 1970-01-01T00:00:00Z and cannot be earlier.");
    }

    private static SparkplugMetric Integer(string? name, SparkplugDataType type, WireKind kind, ulong bits) => new(name, type, new WireValue(kind, bits), false);

    /// <summary>
    /// The value of an integer datatype, read from either integer field: as the datatype's own width in two's complement
    /// or sign-extended from it (signed types), and never outside the datatype's range.
    /// </summary>
    private bool TryGetInteger(out Int128 value)
    {
        value = 0;
        if (IsNull || Value.Kind is not (WireKind.Int or WireKind.Long) || DataType is not { } type)
        {
            return false;
        }

        ulong raw = Value.Bits;
        long signed = Value.Kind == WireKind.Int ? unchecked((int)(uint)raw) : unchecked((long)raw);
        (int bits, bool isSigned) = type switch
        {
            SparkplugDataType.Int8 => (8, true),
            SparkplugDataType.Int16 => (16, true),
            SparkplugDataType.Int32 => (32, true),
            SparkplugDataType.Int64 => (64, true),
            SparkplugDataType.UInt8 => (8, false),
            SparkplugDataType.UInt16 => (16, false),
            SparkplugDataType.UInt32 => (32, false),
            SparkplugDataType.UInt64 => (64, false),
            _ => (0, false),
        };

        if (bits == 0)
        {
            return false;
        }

        if (!isSigned)
        {
            bool fits = bits == 64 || raw >> bits == 0;
            value = fits ? raw : 0;
            return fits;
        }

        if (bits == 64)
        {
            value = signed;
            return true;
        }

        long min = -(1L << (bits - 1));
        long max = (1L << (bits - 1)) - 1;
        if (signed >= min && signed <= max)
        {
            value = signed;
            return true;
        }

        // Zero-extended two's complement of the datatype's width (0xFF for an Int8 of -1).
        if (raw >> bits == 0)
        {
            value = raw > (ulong)max ? (long)raw - (1L << bits) : (long)raw;
            return true;
        }

        return false;
    }
}
