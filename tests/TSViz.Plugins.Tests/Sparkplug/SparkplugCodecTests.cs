using TSViz.Plugins.Sparkplug;

namespace TSViz.Plugins.Tests.Sparkplug;

public sealed class SparkplugCodecTests
{
    private static readonly DateTimeOffset Now = TestSparkplug.Now;

    private static SparkplugMetric RoundTrip(SparkplugMetric metric)
    {
        var bytes = SparkplugCodec.Encode(new SparkplugPayload { Timestamp = Now, Seq = 7, Metrics = [metric] });
        Assert.True(SparkplugCodec.TryDecode(bytes, out var payload, out string? error), error);
        Assert.Equal(Now, payload.Timestamp);
        Assert.Equal(7UL, payload.Seq);
        return Assert.Single(payload.Metrics);
    }

    [Fact]
    public void Encode_EveryScalarDatatype_DecodesToTheSameMetric()
    {
        SparkplugMetric[] metrics =
        [
            SparkplugMetric.Int8("i8", -128), SparkplugMetric.Int16("i16", -32768), SparkplugMetric.Int32("i32", int.MinValue),
            SparkplugMetric.Int64("i64", long.MinValue), SparkplugMetric.UInt8("u8", 255), SparkplugMetric.UInt16("u16", 65535),
            SparkplugMetric.UInt32("u32", uint.MaxValue), SparkplugMetric.UInt64("u64", ulong.MaxValue), SparkplugMetric.Float("f", 1.5f),
            SparkplugMetric.Double("d", -2.25), SparkplugMetric.Boolean("b", true), SparkplugMetric.String("s", "héllo"),
            SparkplugMetric.DateTime("t", Now), SparkplugMetric.Null("n", SparkplugDataType.Double),
        ];
        foreach (var metric in metrics)
        {
            var stamped = metric with { Alias = 42, Timestamp = Now.AddMilliseconds(3) };
            Assert.Equal(stamped, RoundTrip(stamped));
        }
    }

    [Fact]
    public void TryGet_EachDatatype_ReadsItsValue()
    {
        Assert.True(RoundTrip(SparkplugMetric.Int8("x", -5)).TryGetInt64(out long i8) && i8 == -5);
        Assert.True(RoundTrip(SparkplugMetric.Int64("x", long.MinValue)).TryGetInt64(out long i64) && i64 == long.MinValue);
        Assert.True(RoundTrip(SparkplugMetric.UInt32("x", uint.MaxValue)).TryGetUInt64(out ulong u32) && u32 == uint.MaxValue);
        Assert.True(RoundTrip(SparkplugMetric.UInt64("x", ulong.MaxValue)).TryGetUInt64(out ulong u64) && u64 == ulong.MaxValue);
        Assert.True(RoundTrip(SparkplugMetric.Float("x", 0.1f)).TryGetDouble(out double f) && f == 0.1f);
        Assert.True(RoundTrip(SparkplugMetric.Int16("x", -300)).TryGetDouble(out double i16) && i16 == -300);
        Assert.True(RoundTrip(SparkplugMetric.Boolean("x", true)).TryGetBoolean(out bool b) && b);
        Assert.True(RoundTrip(SparkplugMetric.String("x", "abc")).TryGetString(out string? s) && s == "abc");
        Assert.True(RoundTrip(SparkplugMetric.DateTime("x", Now)).TryGetDateTime(out var t) && t == Now);
    }

    [Fact]
    public void TryGet_WrongKindOrNull_IsFalse()
    {
        Assert.False(SparkplugMetric.String("x", "1").TryGetDouble(out _));
        Assert.False(SparkplugMetric.Double("x", 1).TryGetInt64(out _));
        Assert.False(SparkplugMetric.Int32("x", 1).TryGetBoolean(out _));
        Assert.False(SparkplugMetric.Null("x", SparkplugDataType.Double).TryGetDouble(out _));
        Assert.False(SparkplugMetric.Int8("x", -1).TryGetUInt64(out _));
        Assert.False(SparkplugMetric.UInt64("x", ulong.MaxValue).TryGetInt64(out _));
    }

    [Theory]
    [InlineData(SparkplugDataType.Int8, 0xFFFF_FFFFUL, -1L)] // sign-extended, as Tahu writes it
    [InlineData(SparkplugDataType.Int8, 0xFFUL, -1L)] // zero-extended
    [InlineData(SparkplugDataType.Int8, 0x7FUL, 127L)]
    [InlineData(SparkplugDataType.Int16, 0xFFFF_8000UL, -32768L)]
    [InlineData(SparkplugDataType.Int16, 0x8000UL, -32768L)]
    [InlineData(SparkplugDataType.Int32, 0x8000_0000UL, int.MinValue)]
    [InlineData(SparkplugDataType.UInt32, 0xFFFF_FFFFUL, 4294967295L)]
    [InlineData(SparkplugDataType.Int64, 0xFFFF_FFFFUL, -1L)] // a 32-bit field read as a sign-extended Int64
    public void TryGetInt64_IntValueField_ReadsAsTheDatatype(SparkplugDataType type, ulong raw, long expected)
    {
        var metric = SparkplugMetric.FromWire("x", type, new WireValue(WireKind.Int, raw), false);
        Assert.True(metric.TryGetInt64(out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData(SparkplugDataType.Int8, 0x1FFUL)]
    [InlineData(SparkplugDataType.Int8, 0xFFFF_FF00UL)] // -256 sign-extended
    [InlineData(SparkplugDataType.UInt8, 0x100UL)]
    [InlineData(SparkplugDataType.UInt16, 0xFFFF_FFFFUL)]
    public void TryGetInt64_OutsideTheDatatypesRange_IsFalse(SparkplugDataType type, ulong raw)
    {
        var metric = SparkplugMetric.FromWire("x", type, new WireValue(WireKind.Int, raw), false);
        Assert.False(metric.TryGetInt64(out _));
    }

    [Fact]
    public void TryGetUInt64_UInt32InEitherField_ReadsIt()
    {
        // The specification's table says uint32 (int_value); Tahu's Java and JavaScript codecs write long_value.
        Assert.True(SparkplugMetric.FromWire("x", SparkplugDataType.UInt32, new WireValue(WireKind.Int, 7), false).TryGetUInt64(out ulong a) && a == 7);
        Assert.True(SparkplugMetric.FromWire("x", SparkplugDataType.UInt32, new WireValue(WireKind.Long, 7), false).TryGetUInt64(out ulong b) && b == 7);
        Assert.False(SparkplugMetric.FromWire("x", SparkplugDataType.UInt32, new WireValue(WireKind.Long, 1UL << 32), false).TryGetUInt64(out _));
    }

    [Fact]
    public void TryGetDouble_DatatypeTakenFromTheBirth_ReadsAnAliasOnlyMetric()
    {
        var data = RoundTrip(SparkplugMetric.Float(null, 2.5f) with { Alias = 3, DataType = null });
        Assert.Null(data.Name);
        Assert.Null(data.DataType);
        Assert.False(data.TryGetDouble(out _));
        Assert.True((data with { DataType = SparkplugDataType.Float }).TryGetDouble(out double value));
        Assert.Equal(2.5, value);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0x12, 0x05, 0x0A })] // a metric cut short
    [InlineData(new byte[] { 0x00, 0x01 })] // tag 0 names no field
    [InlineData(new byte[] { 0x0F, 0x01 })] // wire type 7 does not exist
    public void TryDecode_NotAPayload_ReturnsTheReason(byte[] bytes)
    {
        Assert.False(SparkplugCodec.TryDecode(bytes, out var payload, out string? error));
        Assert.Null(payload);
        Assert.StartsWith("not a Sparkplug B protobuf payload", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryDecode_TimestampBeyondTheYear9999_ReturnsTheReason()
    {
        // Field 1, varint 2^63: milliseconds no DateTimeOffset holds.
        byte[] bytes = [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
        Assert.False(SparkplugCodec.TryDecode(bytes, out _, out string? error));
        Assert.Contains("beyond the year 9999", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryDecode_Empty_IsAnEmptyPayload()
    {
        Assert.True(SparkplugCodec.TryDecode([], out var payload, out _));
        Assert.Null(payload.Timestamp);
        Assert.Null(payload.Seq);
        Assert.Empty(payload.Metrics);
    }

    [Fact]
    public void Encode_TimeBefore1970_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => SparkplugCodec.Encode(new SparkplugPayload { Timestamp = DateTimeOffset.UnixEpoch.AddMilliseconds(-1) }));
}
