using Microsoft.Extensions.Time.Testing;
using TSViz.Plugins.Ingest;
using TSViz.Plugins.Sparkplug;

namespace TSViz.Plugins.Tests.Sparkplug;

/// <summary>
/// What the Sparkplug tests share: a decoder on the model's three channels with its clock at <see cref="Now"/>, and
/// births and data of edge node "line1"/"gw1" and its device "press7", built with the repository's own codec.
/// </summary>
internal static class TestSparkplug
{
    public const string Group = "line1";
    public const string Edge = "gw1";
    public const string Device = "press7";
    public const string NodeMachine = "line1/gw1";
    public const string DeviceMachine = "line1/gw1/press7";

    public static readonly DateTimeOffset Now = new(2026, 11, 26, 2, 0, 0, TimeSpan.Zero);

    public static readonly string[] Channels = ["pressure", "temperature", "torque"];

    public static string Topic(SparkplugMessageType type) => (type is SparkplugMessageType.DBirth or SparkplugMessageType.DData or SparkplugMessageType.DDeath or SparkplugMessageType.DCmd
        ? SparkplugTopic.ForDevice(type, Group, Edge, Device)
        : SparkplugTopic.ForNode(type, Group, Edge)).ToString();

    public static SparkplugDecoder Decoder(FakeTimeProvider? time = null, Func<SparkplugDecoderSettings, SparkplugDecoderSettings>? configure = null)
    {
        var settings = new SparkplugDecoderSettings { Channels = Channels };
        return new SparkplugDecoder(configure is null ? settings : configure(settings), time ?? new FakeTimeProvider(Now));
    }

    public static DecodeResult Send(this SparkplugDecoder decoder, SparkplugMessageType type, SparkplugPayload payload)
        => decoder.Decode(Topic(type), SparkplugCodec.Encode(payload));

    /// <summary>An NBIRTH with seq 0, bdSeq, the rebirth control and a node metric that is no channel.</summary>
    public static SparkplugPayload NodeBirth(ulong bdSeq = 0, params SparkplugMetric[] more) => new()
    {
        Timestamp = Now,
        Seq = 0,
        Metrics =
        [
            SparkplugMetric.Int64(SparkplugMetricNames.BdSeq, (long)bdSeq) with { Timestamp = Now },
            SparkplugMetric.Boolean(SparkplugMetricNames.NodeControlRebirth, false) with { Timestamp = Now },
            SparkplugMetric.String("Properties/OS", "Linux") with { Timestamp = Now },
            .. more,
        ],
    };

    /// <summary>
    /// A DBIRTH declaring the three channels with aliases 1-3 (pressure Double, temperature Float, torque Int32) and a
    /// status String with alias 4, their values 5, 80, 12 and "running".
    /// </summary>
    public static SparkplugPayload DeviceBirth(ulong seq = 1) => new()
    {
        Timestamp = Now,
        Seq = seq,
        Metrics =
        [
            SparkplugMetric.Double("pressure", 5) with { Alias = 1, Timestamp = Now },
            SparkplugMetric.Float("temperature", 80) with { Alias = 2, Timestamp = Now },
            SparkplugMetric.Int32("torque", 12) with { Alias = 3, Timestamp = Now },
            SparkplugMetric.String("status", "running") with { Alias = 4, Timestamp = Now },
        ],
    };

    /// <summary>A DDATA (or NDATA) with these metrics.</summary>
    public static SparkplugPayload Data(ulong seq, params SparkplugMetric[] metrics) => new() { Timestamp = Now, Seq = seq, Metrics = metrics };

    /// <summary>A death certificate: bdSeq only (NDEATH) or seq only (DDEATH).</summary>
    public static SparkplugPayload NodeDeath(ulong bdSeq) => new() { Timestamp = Now, Metrics = [SparkplugMetric.Int64(SparkplugMetricNames.BdSeq, (long)bdSeq)] };

    public static SparkplugPayload DeviceDeath(ulong seq) => new() { Timestamp = Now, Seq = seq };

    /// <summary>A decoder that has seen the NBIRTH (seq 0) and the DBIRTH (seq 1); the next seq is 2.</summary>
    public static SparkplugDecoder Born(FakeTimeProvider? time = null, Func<SparkplugDecoderSettings, SparkplugDecoderSettings>? configure = null)
    {
        var decoder = Decoder(time, configure);
        Assert.False(decoder.Send(SparkplugMessageType.NBirth, NodeBirth()).IsRejected);
        Assert.False(decoder.Send(SparkplugMessageType.DBirth, DeviceBirth()).IsRejected);
        return decoder;
    }

    /// <summary>The only command of <paramref name="result"/>, checked to be a rebirth request to the test's edge node.</summary>
    public static void AssertRebirthRequest(DecodeResult result)
    {
        var command = Assert.Single(result.Commands);
        Assert.Equal($"spBv1.0/{Group}/NCMD/{Edge}", command.Topic);
        Assert.Equal(0, command.QualityOfService);
        Assert.False(command.Retain);
        Assert.True(SparkplugCodec.TryDecode(command.Payload.Span, out var payload, out _));
        Assert.True(SparkplugRebirth.IsRequest(payload));
    }
}
