namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// The datatype code of a Sparkplug B metric (Sparkplug 3.0.0, section 6.4.16). The codes are the wire values; this
/// codec builds and reads the scalar ones (<see cref="Int8"/> to <see cref="Text"/>, <see cref="Uuid"/>), the others
/// are named so that a message carrying them can be described.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The names are the Sparkplug specification's datatype names.")]
public enum SparkplugDataType
{
    Unknown = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    UInt8 = 5,
    UInt16 = 6,
    UInt32 = 7,
    UInt64 = 8,
    Float = 9,
    Double = 10,
    Boolean = 11,
    String = 12,

    /// <summary>Milliseconds since the Unix epoch, UTC.</summary>
    DateTime = 13,
    Text = 14,
    Uuid = 15,
    DataSet = 16,
    Bytes = 17,
    File = 18,
    Template = 19,
    PropertySet = 20,
    PropertySetList = 21,
    Int8Array = 22,
    Int16Array = 23,
    Int32Array = 24,
    Int64Array = 25,
    UInt8Array = 26,
    UInt16Array = 27,
    UInt32Array = 28,
    UInt64Array = 29,
    FloatArray = 30,
    DoubleArray = 31,
    BooleanArray = 32,
    StringArray = 33,
    DateTimeArray = 34,
}
