using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using TSViz.Plugins.Ingest;
using TSViz.Plugins.Sparkplug;
using TSViz.Plugins.Tests.Ingest;
using static TSViz.Plugins.Tests.Sparkplug.TestSparkplug;

namespace TSViz.Plugins.Tests.Sparkplug;

/// <summary>
/// <see cref="SparkplugDecoder.Decode"/> returns a well-formed result for any topic and bytes, and for any order of
/// messages: random bytes, valid messages with bytes changed, payloads of random metrics (datatypes, value fields,
/// aliases, nulls, timestamps that do not fit), and random sequences of births, data and deaths on one decoder.
/// </summary>
public sealed class SparkplugDecoderPropertyTests
{
    private const int Cases = 2_000;

    private static readonly SparkplugMessageType[] Types = Enum.GetValues<SparkplugMessageType>();

    private static readonly SparkplugDataType?[] DataTypes =
    [
        null, SparkplugDataType.Unknown, SparkplugDataType.Int8, SparkplugDataType.Int16, SparkplugDataType.Int32, SparkplugDataType.Int64,
        SparkplugDataType.UInt8, SparkplugDataType.UInt32, SparkplugDataType.UInt64, SparkplugDataType.Float, SparkplugDataType.Double,
        SparkplugDataType.Boolean, SparkplugDataType.String, SparkplugDataType.DateTime, SparkplugDataType.DataSet, (SparkplugDataType)4000,
    ];

    [Property(MaxTest = Cases, QuietOnSuccess = true)]
    public Property Decode_RandomBytes_ReturnsAResult()
        => Prop.ForAll(Arb.From(RandomBytes), message => Check(Born(), message));

    [Property(MaxTest = Cases, QuietOnSuccess = true)]
    public Property Decode_ValidMessagesWithBytesChanged_ReturnsAResult()
        => Prop.ForAll(Arb.From(Mutated), message => Check(Born(), message));

    [Property(MaxTest = Cases, QuietOnSuccess = true)]
    public Property Decode_RandomMetrics_ReturnsAResult()
        => Prop.ForAll(Arb.From(RandomMessage), message => Check(Born(), message));

    [Property(MaxTest = Cases / 4, QuietOnSuccess = true)]
    public Property Decode_RandomSequencesOfMessages_ReturnsAResultEachTime()
        => Prop.ForAll(Arb.From(Gen.Choose(1, 40).SelectMany(n => Gen.ArrayOf(Gen.Frequency((3, RandomMessage), (1, Mutated)), n))), messages =>
        {
            var decoder = Decoder();
            foreach (var message in messages)
            {
                Check(decoder, message);
            }
        });

    [Fact]
    public void Generators_ProduceAcceptedSamplesToo()
    {
        // The checks below look at accepted samples as well, which is only worth something if some are accepted.
        int withSamples = RandomMessage.Sample(400).Count(m => Born().Decode(m.Topic, m.Bytes).Samples.Count > 0);
        Assert.InRange(withSamples, 10, 400);
    }

    private static Gen<string> Topics =>
        Gen.Frequency(
            (9, from type in Gen.Elements(Types) from device in Gen.Elements(Device, "press8") select TopicOf(type, device)),
            (1, Gen.Elements("spBv1.0/line1/DDATA/gw1", "spBv1.0/+/DDATA/gw1/press7", "spBv1.0/STATE/", "spBv1.0", "", "plant/line1/m7/telemetry", "spBv1.0/line1/NDATA/gw1/\uD800")));

    private static Gen<TelemetryPayload> RandomBytes =>
        from topic in Topics
        from length in Gen.Choose(0, 300)
        from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), length)
        select new TelemetryPayload(topic, bytes);

    private static Gen<TelemetryPayload> Mutated =>
        from valid in Gen.Elements(ValidMessages())
        from edits in Gen.Choose(1, 4)
        from positions in Gen.ArrayOf(Gen.Choose(0, 10_000), edits)
        from values in Gen.ArrayOf(Gen.Choose(0, 255), edits)
        from kind in Gen.Choose(0, 2)
        select new TelemetryPayload(valid.Topic, Edit(valid.Bytes, positions, values, kind));

    private static Gen<SparkplugMetric> RandomMetric =>
        from name in Gen.Elements<string?>(null, "pressure", "temperature", "torque", "status", SparkplugMetricNames.BdSeq, string.Empty)
        from alias in Gen.Elements<ulong?>(null, 1, 2, 3, 4, 99)
        from type in Gen.Elements(DataTypes)
        from kind in Gen.Elements(Enum.GetValues<WireKind>())
        from bits in Gen.Elements(0UL, 1UL, 12UL, 255UL, 0xFFFF_FFFFUL, 1UL << 40, ulong.MaxValue)
        from real in Gen.Elements(0.0, 5.5, 80.0, -1e300, 1e39, double.NaN, double.PositiveInfinity)
        from isNull in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
        from stamped in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from offset in Gen.Frequency((8, Gen.Choose(-60_000, 4_000)), (1, Gen.Choose(int.MinValue, int.MaxValue)))
        select SparkplugMetric.FromWire(name, type, new WireValue(kind, bits, real, kind == WireKind.String ? "12" : null), isNull)
            with { Alias = alias, Timestamp = stamped ? Now.AddMilliseconds(offset) : null };

    /// <summary>Device data by the birth's aliases with the right value fields: random values and times, sometimes null.</summary>
    private static Gen<SparkplugMetric> PlausibleMetric =>
        from alias in Gen.Choose(1, 3)
        from value in Gen.Frequency((8, Gen.Choose(-1000, 1000).Select(v => (double)v)), (1, Gen.Elements(1e300, double.NaN, -0.0)))
        from isNull in Gen.Frequency((19, Gen.Constant(false)), (1, Gen.Constant(true)))
        from offset in Gen.Frequency((9, Gen.Choose(-5_000, 0)), (1, Gen.Choose(-100_000_000, 10_000)))
        let metric = alias switch
        {
            1 => SparkplugMetric.Double(null, value),
            2 => SparkplugMetric.Float(null, (float)value),
            _ => SparkplugMetric.Int32(null, double.IsFinite(value) ? (int)Math.Clamp(value, int.MinValue, int.MaxValue) : 0),
        }
        select (isNull ? SparkplugMetric.Null(null, metric.DataType!.Value) : metric) with { Alias = (ulong)alias, Timestamp = Now.AddMilliseconds(offset) };

    private static Gen<TelemetryPayload> RandomMessage =>
        Gen.Frequency((3, AnyMessage), (1, PlausibleData));

    private static Gen<TelemetryPayload> PlausibleData =>
        from seq in Gen.Choose(0, 3)
        from count in Gen.Choose(1, 6)
        from metrics in Gen.ArrayOf(PlausibleMetric, count)
        select new TelemetryPayload(Topic(SparkplugMessageType.DData), SparkplugCodec.Encode(Data((ulong)seq, metrics)));

    private static Gen<TelemetryPayload> AnyMessage =>
        from topic in Topics
        from seq in Gen.Elements<ulong?>(null, 0, 1, 2, 3, 255, 256, ulong.MaxValue)
        from stamped in Gen.Elements(true, false)
        from count in Gen.Choose(0, 6)
        from metrics in Gen.ArrayOf(RandomMetric, count)
        select new TelemetryPayload(topic, SparkplugCodec.Encode(new SparkplugPayload { Timestamp = stamped ? Now : null, Seq = seq, Metrics = metrics }));

    private static string TopicOf(SparkplugMessageType type, string device) => type switch
    {
        SparkplugMessageType.State => "spBv1.0/STATE/scada1",
        SparkplugMessageType.DBirth or SparkplugMessageType.DData or SparkplugMessageType.DDeath or SparkplugMessageType.DCmd => SparkplugTopic.ForDevice(type, Group, Edge, device).ToString(),
        _ => SparkplugTopic.ForNode(type, Group, Edge).ToString(),
    };

    private static TelemetryPayload[] ValidMessages() =>
    [
        new(Topic(SparkplugMessageType.NBirth), SparkplugCodec.Encode(NodeBirth())),
        new(Topic(SparkplugMessageType.DBirth), SparkplugCodec.Encode(DeviceBirth(2))),
        new(Topic(SparkplugMessageType.DData), SparkplugCodec.Encode(Data(2,
            SparkplugMetric.Double(null, 6) with { Alias = 1, Timestamp = Now.AddSeconds(-1) },
            SparkplugMetric.Int32("torque", 13) with { Timestamp = Now.AddSeconds(-1) },
            SparkplugMetric.Float(null, 81) with { Alias = 2, Timestamp = Now }))),
        new(Topic(SparkplugMessageType.NDeath), SparkplugCodec.Encode(NodeDeath(0))),
        new(Topic(SparkplugMessageType.DDeath), SparkplugCodec.Encode(DeviceDeath(2))),
    ];

    /// <summary>Overwrites (kind 0), inserts (1) or removes (2) bytes at the positions (taken modulo the length).</summary>
    private static byte[] Edit(byte[] bytes, int[] positions, int[] values, int kind)
    {
        var edited = bytes.ToList();
        for (int i = 0; i < positions.Length; i++)
        {
            int places = kind == 1 ? edited.Count + 1 : edited.Count;
            if (places == 0)
            {
                continue;
            }

            int at = positions[i] % places;
            switch (kind)
            {
                case 0:
                    edited[at] = (byte)values[i];
                    break;
                case 1:
                    edited.Insert(at, (byte)values[i]);
                    break;
                default:
                    edited.RemoveAt(at);
                    break;
            }
        }

        return [.. edited];
    }

    /// <summary>
    /// What holds for every message: no exception and not the last-resort reason; a rejection with a defined reason, a
    /// well-formed detail and no samples; or samples of the topic's machine, one finite value per channel, in the allowed
    /// time; resets of well-formed machines; commands that are rebirth requests to the test's edge node.
    /// </summary>
    private static void Check(SparkplugDecoder decoder, TelemetryPayload message)
    {
        var result = decoder.Decode(message.Topic, message.Bytes);
        foreach (var command in result.Commands)
        {
            AssertRebirthRequest(result with { Commands = [command] });
        }

        Assert.All(result.Resets, r => Assert.True(TestDecoders.IsWellFormed(r.Machine) && r.Machine.StartsWith(NodeMachine, StringComparison.Ordinal), r.Machine));
        if (result.IsRejected)
        {
            Assert.True(Enum.IsDefined(result.Reason!.Value), $"undefined reason {result.Reason}");
            Assert.True(result.Reason != RejectionReason.DecoderFailure, result.Detail);
            Assert.False(string.IsNullOrWhiteSpace(result.Detail), "a rejection without a detail");
            Assert.True(TestDecoders.IsWellFormed(result.Detail), $"a detail that is not well-formed UTF-16: {result.Detail}");
            Assert.Empty(result.Samples);
            return;
        }

        Assert.Null(result.Detail);
        if (result.Samples.Count == 0)
        {
            return;
        }

        Assert.True(SparkplugTopic.TryParse(message.Topic, out var topic, out _));
        string machine = topic.DeviceId is { } device ? $"{NodeMachine}/{device}" : NodeMachine;
        foreach (var sample in result.Samples)
        {
            Assert.Equal(machine, sample.Machine);
            Assert.Equal(Channels.Length, sample.Values.Length);
            Assert.All(sample.Values, v => Assert.True(float.IsFinite(v), $"{v} accepted"));
            Assert.InRange(sample.Timestamp, Now.AddDays(-1), Now.AddSeconds(5));
        }

        Assert.Equal(result.Samples.OrderBy(s => s.Timestamp).Select(s => s.Timestamp), result.Samples.Select(s => s.Timestamp));
    }
}
