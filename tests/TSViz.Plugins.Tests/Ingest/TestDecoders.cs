using System.Text;
using Microsoft.Extensions.Time.Testing;
using TSViz.Plugins.Ingest;

namespace TSViz.Plugins.Tests.Ingest;

/// <summary>The decoder the ingest tests share: three channels, machine "line1/m7" on <see cref="Topic"/>, the clock at <see cref="Now"/>.</summary>
internal static class TestDecoders
{
    public const string Topic = "plant/line1/m7/telemetry";

    public static readonly DateTimeOffset Now = new(2026, 11, 26, 2, 0, 0, TimeSpan.Zero);

    public static readonly string[] Channels = ["pressure", "temperature", "torque"];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static JsonTelemetryDecoder Create(TimeProvider? time = null, TimeSpan? maxFutureSkew = null, int maxPayloadBytes = 256 * 1024)
    {
        var settings = new JsonDecoderSettings { Channels = Channels, MaxPayloadBytes = maxPayloadBytes };
        if (maxFutureSkew is { } skew)
        {
            settings = settings with { MaxFutureSkew = skew };
        }

        return new JsonTelemetryDecoder(settings, time ?? new FakeTimeProvider(Now));
    }

    public static DecodeResult Decode(string payload, string topic = Topic) => Create().Decode(topic, Encoding.UTF8.GetBytes(payload));

    /// <summary>Whether <paramref name="text"/> is well-formed UTF-16 (no lone surrogate), so a JSON writer can write it.</summary>
    public static bool IsWellFormed(string text)
    {
        try
        {
            _ = StrictUtf8.GetByteCount(text);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>One valid sample at <paramref name="at"/> as a JSON object.</summary>
    public static string SampleJson(DateTimeOffset at, float pressure = 1, float temperature = 2, float torque = 3)
        => $$"""{"ts":"{{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}","pressure":{{pressure:R}},"temperature":{{temperature:R}},"torque":{{torque:R}}}""";
}
