using System.Text.Json.Nodes;
using TSViz.Plugins.Ingest;
using TSViz.Plugins.Sparkplug;
using TSViz.Tests.Shared;
using static TSViz.Tests.Shared.SparkplugJs;
using static TSViz.Plugins.Tests.Sparkplug.TestSparkplug;

namespace TSViz.Plugins.Tests.Sparkplug;

/// <summary>
/// Messages encoded by Eclipse Tahu's JavaScript codec (sparkplug-payload 1.0.3) decoded by <see cref="SparkplugDecoder"/>,
/// and the decoder's rebirth requests read back by that codec.
/// </summary>
public sealed class SparkplugDecoderInteropTests
{
    private static readonly DateTimeOffset T1 = Now.AddSeconds(-2);
    private static readonly DateTimeOffset T2 = Now.AddSeconds(-1);

    /// <summary>NBIRTH (bdSeq 3) with node metrics that are no channel.</summary>
    private static JsonObject NodeBirth(string bdSeq = "3") => Payload(Now, 0,
        Metric(SparkplugMetricNames.BdSeq, "Int64", bdSeq, timestamp: Now),
        Metric(SparkplugMetricNames.NodeControlRebirth, "Boolean", false, timestamp: Now),
        Metric("Properties/OS", "String", "Linux", timestamp: Now));

    /// <summary>DBIRTH with aliases: pressure Double 1, temperature Float 2, torque Int16 3 (negative), two metrics that are no channel.</summary>
    private static JsonObject DeviceBirth(ulong seq = 1) => Payload(Now, seq,
        Metric("pressure", "Double", 5.0, alias: 1, timestamp: Now),
        Metric("temperature", "Float", 80.0, alias: 2, timestamp: Now),
        Metric("torque", "Int16", -12, alias: 3, timestamp: Now),
        Metric("status", "String", "running", alias: 4, timestamp: Now),
        Metric("counter", "UInt32", "4000000000", alias: 5, timestamp: Now));

    /// <summary>DDATA by alias only (sparkplug-payload always writes the datatype).</summary>
    private static JsonObject DeviceData(ulong seq) => Payload(Now, seq,
        Metric(null, "Double", 5.5, alias: 1, timestamp: T1),
        Metric(null, "Int16", -13, alias: 3, timestamp: T1),
        Metric(null, "UInt32", "4000000001", alias: 5, timestamp: T1),
        Metric(null, "Float", 81.25, alias: 2, timestamp: T2));

    private static async Task<(SparkplugDecoder Decoder, DecodeResult[] Results)> DecodeAsync(
        SparkplugDecoder decoder, params (SparkplugMessageType Type, JsonObject Payload)[] messages)
    {
        var encoded = await EncodeAsync([.. messages.Select(m => m.Payload)]);
        return (decoder, [.. messages.Select((m, i) => decoder.Decode(Topic(m.Type), encoded[i]))]);
    }

    private static async Task AssertTahuReadsARebirthRequestAsync(DecoderCommand command)
    {
        Assert.Equal("spBv1.0/line1/NCMD/gw1", command.Topic);
        var payload = Assert.Single(await SparkplugJs.DecodeAsync(command.Payload));
        var metric = Assert.Single(payload["metrics"]!.AsArray())!;
        Assert.Equal(SparkplugMetricNames.NodeControlRebirth, metric["name"]!.GetValue<string>());
        Assert.Equal("Boolean", metric["type"]!.GetValue<string>());
        Assert.True(metric["value"]!.GetValue<bool>());
        Assert.Null(payload["seq"]);
    }

    [Fact]
    public async Task Decode_TahuBirthsAndDataByAlias_OneSamplePerTimestampWithCarriedValues()
    {
        var (_, results) = await DecodeAsync(Decoder(),
            (SparkplugMessageType.NBirth, NodeBirth()),
            (SparkplugMessageType.DBirth, DeviceBirth()),
            (SparkplugMessageType.DData, DeviceData(2)));

        Assert.All(results, r => Assert.False(r.IsRejected, r.Detail));
        var samples = results[2].Samples;
        Assert.Equal([DeviceMachine, DeviceMachine], samples.Select(s => s.Machine));
        Assert.Equal([T1, T2], samples.Select(s => s.Timestamp));
        Assert.Equal([5.5f, 80f, -13f], samples[0].Values);
        Assert.Equal([5.5f, 81.25f, -13f], samples[1].Values);
    }

    [Fact]
    public async Task Decode_TahuNodeData_SamplesOfTheNodesMachine()
    {
        var birth = Payload(Now, 0,
            Metric(SparkplugMetricNames.BdSeq, "Int64", "0"),
            Metric("pressure", "Int32", -70000, alias: 7, timestamp: Now),
            Metric("temperature", "UInt16", 65000, alias: 8, timestamp: Now),
            Metric("torque", "Int8", -5, alias: 9, timestamp: Now));
        var data = Payload(Now, 1, Metric(null, "Int8", -128, alias: 9, timestamp: T1));

        var (_, results) = await DecodeAsync(Decoder(), (SparkplugMessageType.NBirth, birth), (SparkplugMessageType.NData, data));

        var sample = Assert.Single(results[1].Samples);
        Assert.Equal(NodeMachine, sample.Machine);
        Assert.Equal([-70000f, 65000f, -128f], sample.Values);
    }

    [Fact]
    public async Task Decode_TahuDeviceDeathThenData_ResetThenNoBirthWithARebirthRequestTahuReads()
    {
        var (decoder, results) = await DecodeAsync(Decoder(),
            (SparkplugMessageType.NBirth, NodeBirth()),
            (SparkplugMessageType.DBirth, DeviceBirth()),
            (SparkplugMessageType.DDeath, Payload(Now, 2)),
            (SparkplugMessageType.DData, DeviceData(3)));

        Assert.Equal([new MachineReset(DeviceMachine, "sparkplug_ddeath")], results[2].Resets);
        Assert.Equal(RejectionReason.SparkplugNoBirth, results[3].Reason);
        await AssertTahuReadsARebirthRequestAsync(Assert.Single(results[3].Commands));
        Assert.Equal(0, decoder.SequenceGaps);
    }

    [Fact]
    public async Task Decode_TahuNodeDeath_ResetsOnlyWithTheBirthsBdSeq()
    {
        var (_, results) = await DecodeAsync(Decoder(),
            (SparkplugMessageType.NBirth, NodeBirth("3")),
            (SparkplugMessageType.DBirth, DeviceBirth()),
            (SparkplugMessageType.NDeath, Payload(Now, null, Metric(SparkplugMetricNames.BdSeq, "Int64", "2"))),
            (SparkplugMessageType.DData, DeviceData(2)),
            (SparkplugMessageType.NDeath, Payload(Now, null, Metric(SparkplugMetricNames.BdSeq, "Int64", "3"))),
            (SparkplugMessageType.DData, DeviceData(3)));

        Assert.Empty(results[2].Resets);
        Assert.Equal(2, results[3].Samples.Count);
        Assert.Equal([new MachineReset(DeviceMachine, "sparkplug_ndeath")], results[4].Resets);
        Assert.Equal(RejectionReason.SparkplugNoBirth, results[5].Reason);
    }

    [Fact]
    public async Task Decode_TahuSeqGap_CountedAndWhenConfiguredARebirthRequestTahuReads()
    {
        var (decoder, results) = await DecodeAsync(Decoder(configure: s => s with { RebirthOnSequenceGap = true }),
            (SparkplugMessageType.NBirth, NodeBirth()),
            (SparkplugMessageType.DBirth, DeviceBirth()),
            (SparkplugMessageType.DData, DeviceData(7)),
            (SparkplugMessageType.DData, DeviceData(8)));

        Assert.Equal(2, results[2].Samples.Count);
        Assert.Equal(1, decoder.SequenceGaps);
        await AssertTahuReadsARebirthRequestAsync(Assert.Single(results[2].Commands));
        Assert.Empty(results[3].Commands);
    }

    [Fact]
    public async Task Decode_TahuDataBeforeBirthThenTheRebirth_RequestThenSamples()
    {
        var (decoder, results) = await DecodeAsync(Decoder(),
            (SparkplugMessageType.DData, DeviceData(5)),
            (SparkplugMessageType.NBirth, NodeBirth()),
            (SparkplugMessageType.DBirth, DeviceBirth()),
            (SparkplugMessageType.DData, DeviceData(2)));

        Assert.Equal(RejectionReason.SparkplugNoBirth, results[0].Reason);
        await AssertTahuReadsARebirthRequestAsync(Assert.Single(results[0].Commands));
        Assert.Equal(2, results[3].Samples.Count);
        Assert.Equal(1, decoder.RebirthRequests);
    }

    [Fact]
    public async Task TryDecode_TahuEncodedDatatypes_ReadsEachValue()
    {
        var bytes = (await EncodeAsync(Payload(Now, 9,
            Metric("i8", "Int8", -5), Metric("i16", "Int16", -300), Metric("i32", "Int32", -70000), Metric("i64", "Int64", "-9007199254740993"),
            Metric("u8", "UInt8", 200), Metric("u16", "UInt16", 65000), Metric("u32", "UInt32", "4000000000"),
            Metric("u64", "UInt64", "18446744073709551615"), Metric("f", "Float", 1.5), Metric("d", "Double", -2.25),
            Metric("b", "Boolean", true), Metric("s", "String", "héllo"), Metric("t", "DateTime", Milliseconds(Now)),
            Metric("n", "Double", null))))[0];

        Assert.True(SparkplugCodec.TryDecode(bytes, out var payload, out string? error), error);
        var byName = payload.Metrics.ToDictionary(m => m.Name!);
        Assert.Equal(9UL, payload.Seq);
        Assert.Equal(Now, payload.Timestamp);
        Assert.True(byName["i8"].TryGetInt64(out long i8) && i8 == -5);
        Assert.True(byName["i16"].TryGetInt64(out long i16) && i16 == -300);
        Assert.True(byName["i32"].TryGetInt64(out long i32) && i32 == -70000);
        Assert.True(byName["i64"].TryGetInt64(out long i64) && i64 == -9007199254740993);
        Assert.True(byName["u8"].TryGetUInt64(out ulong u8) && u8 == 200);
        Assert.True(byName["u16"].TryGetUInt64(out ulong u16) && u16 == 65000);
        Assert.True(byName["u32"].TryGetUInt64(out ulong u32) && u32 == 4_000_000_000);
        Assert.True(byName["u64"].TryGetUInt64(out ulong u64) && u64 == ulong.MaxValue);
        Assert.True(byName["f"].TryGetDouble(out double f) && f == 1.5);
        Assert.True(byName["d"].TryGetDouble(out double d) && d == -2.25);
        Assert.True(byName["b"].TryGetBoolean(out bool bo) && bo);
        Assert.True(byName["s"].TryGetString(out string? s) && s == "héllo");
        Assert.True(byName["t"].TryGetDateTime(out var t) && t == Now);
        Assert.True(byName["n"].IsNull);
        Assert.Equal(SparkplugDataType.Double, byName["n"].DataType);
    }

    [Fact]
    public async Task Encode_EveryDatatype_TahuReadsEachValue()
    {
        var bytes = SparkplugCodec.Encode(new SparkplugPayload
        {
            Timestamp = Now,
            Seq = 9,
            Metrics =
            [
                SparkplugMetric.Int8("i8", -5), SparkplugMetric.Int16("i16", -300), SparkplugMetric.Int32("i32", -70000),
                SparkplugMetric.Int64("i64", -9007199254740993), SparkplugMetric.UInt8("u8", 200), SparkplugMetric.UInt16("u16", 65000),
                SparkplugMetric.UInt32("u32", 4_000_000_000), SparkplugMetric.UInt64("u64", ulong.MaxValue), SparkplugMetric.Float("f", 1.5f),
                SparkplugMetric.Double("d", -2.25), SparkplugMetric.Boolean("b", true), SparkplugMetric.String("s", "héllo"),
                SparkplugMetric.DateTime("t", Now) with { Alias = 77, Timestamp = T1 }, SparkplugMetric.Null("n", SparkplugDataType.Double),
            ],
        });

        var payload = Assert.Single(await SparkplugJs.DecodeAsync(bytes));
        Assert.Equal(Milliseconds(Now), payload["timestamp"]!.GetValue<string>());
        Assert.Equal("9", payload["seq"]!.GetValue<string>());
        var byName = payload["metrics"]!.AsArray().ToDictionary(m => m!["name"]!.GetValue<string>(), m => m!);
        Assert.Equal(-5, byName["i8"]["value"]!.GetValue<int>());
        Assert.Equal(-300, byName["i16"]["value"]!.GetValue<int>());
        Assert.Equal(-70000, byName["i32"]["value"]!.GetValue<int>());
        Assert.Equal("-9007199254740993", byName["i64"]["value"]!.GetValue<string>());
        Assert.Equal(200, byName["u8"]["value"]!.GetValue<int>());
        Assert.Equal(65000, byName["u16"]["value"]!.GetValue<int>());
        Assert.Equal(4_000_000_000, byName["u32"]["value"]!.GetValue<long>());
        Assert.Equal("18446744073709551615", byName["u64"]["value"]!.GetValue<string>());
        Assert.Equal(1.5, byName["f"]["value"]!.GetValue<double>());
        Assert.Equal(-2.25, byName["d"]["value"]!.GetValue<double>());
        Assert.True(byName["b"]["value"]!.GetValue<bool>());
        Assert.Equal("héllo", byName["s"]["value"]!.GetValue<string>());
        Assert.Equal(Milliseconds(Now), byName["t"]["value"]!.GetValue<string>());
        Assert.Equal("77", byName["t"]["alias"]!.GetValue<string>());
        Assert.Equal(Milliseconds(T1), byName["t"]["timestamp"]!.GetValue<string>());
        Assert.Null(byName["n"]["value"]);
        Assert.Equal("Double", byName["n"]["type"]!.GetValue<string>());
        Assert.Equal(
            ["Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float", "Double", "Boolean", "String", "DateTime", "Double"],
            payload["metrics"]!.AsArray().Select(m => m!["type"]!.GetValue<string>()));
    }
}
