namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// The datatype code of a Sparkplug B metric (Sparkplug 3.0.0, section 6.4.16). The codes are the wire values; this
/// codec reads the scalar ones (<see cref="Int8"/> to <see cref="Text"/>, <see cref="Uuid"/>) and its factories build
/// <see cref="Int8"/> to <see cref="DateTime"/>; the others are named so that a message carrying them can be described.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The names are the Sparkplug specification's datatype names.")]
public enum SparkplugDataType
{
    /// <summary>
    /// No datatype: the specification's placeholder, which no metric should carry; never read as a value.
    /// </summary>
    Unknown = 0,

    /// <summary>Signed 8-bit integer, in <c>int_value</c> (32-bit two's complement).</summary>
    Int8 = 1,

    /// <summary>Signed 16-bit integer, in <c>int_value</c> (32-bit two's complement).</summary>
    Int16 = 2,

    /// <summary>Signed 32-bit integer, in <c>int_value</c>.</summary>
    Int32 = 3,

    /// <summary>Signed 64-bit integer, in <c>long_value</c> (64-bit two's complement).</summary>
    Int64 = 4,

    /// <summary>Unsigned 8-bit integer, in <c>int_value</c>.</summary>
    UInt8 = 5,

    /// <summary>Unsigned 16-bit integer, in <c>int_value</c>.</summary>
    UInt16 = 6,

    /// <summary>
    /// Unsigned 32-bit integer: written to <c>long_value</c> as Eclipse Tahu does, read from either integer field
    /// (see <see cref="SparkplugMetric"/>).
    /// </summary>
    UInt32 = 7,

    /// <summary>Unsigned 64-bit integer, in <c>long_value</c>.</summary>
    UInt64 = 8,

    /// <summary>32-bit IEEE 754 floating point, in <c>float_value</c>.</summary>
    Float = 9,

    /// <summary>64-bit IEEE 754 floating point, in <c>double_value</c>.</summary>
    Double = 10,

    /// <summary>True or false, in <c>boolean_value</c>.</summary>
    Boolean = 11,

    /// <summary>UTF-8 text, in <c>string_value</c>.</summary>
    String = 12,

    /// <summary>Milliseconds since the Unix epoch, UTC.</summary>
    DateTime = 13,

    /// <summary>
    /// Text, in <c>string_value</c>: read as a string (<see cref="SparkplugMetric.TryGetString"/>); no factory
    /// builds it.
    /// </summary>
    Text = 14,

    /// <summary>A UUID as text, in <c>string_value</c>; read as a string, no factory builds it.</summary>
    Uuid = 15,

    /// <summary>
    /// A table of typed columns (<c>dataset_value</c>). Named only: this codec neither builds nor reads it.
    /// </summary>
    DataSet = 16,

    /// <summary>Raw bytes (<c>bytes_value</c>). Named only.</summary>
    Bytes = 17,

    /// <summary>A file's content (<c>bytes_value</c>). Named only.</summary>
    File = 18,

    /// <summary>An instance or definition of a user-defined type (<c>template_value</c>). Named only.</summary>
    Template = 19,

    /// <summary>A set of properties; in Sparkplug 3.0.0 a property value's type, not a metric's. Named only.</summary>
    PropertySet = 20,

    /// <summary>A list of property sets; a property value's type, not a metric's. Named only.</summary>
    PropertySetList = 21,

    /// <summary>An array of Int8, packed into <c>bytes_value</c>. Named only.</summary>
    Int8Array = 22,

    /// <summary>An array of Int16, packed into <c>bytes_value</c>. Named only.</summary>
    Int16Array = 23,

    /// <summary>An array of Int32, packed into <c>bytes_value</c>. Named only.</summary>
    Int32Array = 24,

    /// <summary>An array of Int64, packed into <c>bytes_value</c>. Named only.</summary>
    Int64Array = 25,

    /// <summary>An array of UInt8, packed into <c>bytes_value</c>. Named only.</summary>
    UInt8Array = 26,

    /// <summary>An array of UInt16, packed into <c>bytes_value</c>. Named only.</summary>
    UInt16Array = 27,

    /// <summary>An array of UInt32, packed into <c>bytes_value</c>. Named only.</summary>
    UInt32Array = 28,

    /// <summary>An array of UInt64, packed into <c>bytes_value</c>. Named only.</summary>
    UInt64Array = 29,

    /// <summary>An array of Float, packed into <c>bytes_value</c>. Named only.</summary>
    FloatArray = 30,

    /// <summary>An array of Double, packed into <c>bytes_value</c>. Named only.</summary>
    DoubleArray = 31,

    /// <summary>An array of Boolean, packed into <c>bytes_value</c>. Named only.</summary>
    BooleanArray = 32,

    /// <summary>An array of String, packed into <c>bytes_value</c>. Named only.</summary>
    StringArray = 33,

    /// <summary>An array of DateTime (Unix milliseconds), packed into <c>bytes_value</c>. Named only.</summary>
    DateTimeArray = 34,
}
