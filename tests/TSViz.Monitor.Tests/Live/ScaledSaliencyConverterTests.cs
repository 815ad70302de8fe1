using System.Text.Json;
using TSViz.Monitor.Live;

namespace TSViz.Monitor.Tests.Live;

/// <summary>The explanation's saliency goes out with five decimals and reads back within half a step (5e-6).</summary>
public sealed class ScaledSaliencyConverterTests
{
    private static readonly JsonSerializerOptions Options = new() { Converters = { new ScaledSaliencyConverter() } };

    [Fact]
    public void Write_ScaledValues_FiveDecimalsWithoutTrailingZeros()
    {
        float[][] rows = [[0f, 1f, 0.5f, 0.12345679f, 0.000004f, 0.000006f, 0.999996f], [0.1f, 0.0701f]];
        Assert.Equal("[[0,1,0.5,0.12346,0,0.00001,1],[0.1,0.0701]]", JsonSerializer.Serialize(rows, Options));
    }

    [Fact]
    public void Write_ValuesOutsideZeroToOne_AreWrittenInFull()
    {
        float[][] rows = [[1.5f, -0.25f, 12345.678f]];
        Assert.Equal("[[1.5,-0.25,12345.678]]", JsonSerializer.Serialize(rows, Options));
    }

    [Fact]
    public void RoundTrip_EveryValue_WithinHalfAStep()
    {
        var random = new Random(5);
        var rows = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 50).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var read = JsonSerializer.Deserialize<float[][]>(JsonSerializer.Serialize(rows, Options), Options)!;
        Assert.Equal(rows.Length, read.Length);
        for (int c = 0; c < rows.Length; c++)
        {
            Assert.Equal(rows[c].Length, read[c].Length);
            for (int t = 0; t < rows[c].Length; t++)
            {
                Assert.True(Math.Abs(rows[c][t] - read[c][t]) <= 0.5e-5 + 1e-7, $"[{c}][{t}]: {rows[c][t]} read back as {read[c][t]}");
            }
        }
    }

    [Fact]
    public void ExplanationMessage_UsesIt_ForTheSaliencyOnly()
    {
        var message = new ExplanationMessage(
            "id", "m1", "anomaly 1", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 0.123456f, true, "anomaly", "logit", false,
            new Dictionary<string, float> { ["temperature"] = 0.333333f }, "temperature", [[0.123456f, 1f]], [], [], null, null, null,
            new TimingsMessage(1, 2, 3, 4));
        using var json = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(message, LiveJsonContext.Default.ExplanationMessage));
        Assert.Equal("[[0.12346,1]]", json.RootElement.GetProperty("saliency").GetRawText());
        Assert.Equal("0.123456", json.RootElement.GetProperty("score").GetRawText());
    }
}
