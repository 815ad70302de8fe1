using System.Text;
using TSViz.Plugins.History;
using TSViz.Plugins.Windows;

namespace TSViz.Plugins.Tests.History;

/// <summary>The records the history tests write, whatever the store: windows, alert episodes and partial windows.</summary>
internal static class HistoryTestData
{
    internal static readonly DateTimeOffset T0 = new(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);

    internal static WindowRecord Window(string machine, int second, float score, string dominant = "temperature", bool detail = false, string? alert = null)
    {
        var end = T0.AddSeconds(second);
        string id = $"{machine}:{end:O}:anomaly-cnn/1.0.0";
        return new WindowRecord
        {
            Id = id,
            Machine = machine,
            ModelVersion = "anomaly-cnn 1.0.0",
            WindowStart = end.AddSeconds(-5),
            WindowEnd = end,
            Score = score,
            Decision = score >= 0.5f,
            ReasonCode = score >= 0.5f ? "anomaly" : "normal",
            ChannelContributions = new Dictionary<string, float> { ["pressure"] = 0.1f, ["temperature"] = dominant == "temperature" ? 0.7f : 0.2f, ["torque"] = dominant == "torque" ? 0.7f : 0.2f },
            DominantChannel = dominant,
            TopStepChannel = dominant,
            TopStep = 42,
            TopFilters = [new InfluentialFilter("conv1", second % 3, 1.5f, 1f), new InfluentialFilter("conv2", 7, 0.5f, 0.3f)],
            ScoreAfterFgsm = score * 0.9f,
            SmallestFlippingEpsilon = alert is null ? null : 0.12,
            AlertId = alert,
            Detail = detail ? new WindowDetail(Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","saliency":[[0.1,1]]}"""), [1f, 2f, 3f, 4f, 5f, 6f], 3, 2) : null,
        };
    }

    internal static AlertRecord Alert(string machine, int second, float[] signature, string status = "closed", double peak = 0.9, string dominant = "temperature")
        => new()
        {
            Id = $"{machine}:{T0.AddSeconds(second):O}:anomaly-cnn/1.0.0",
            Machine = machine,
            ModelVersion = "anomaly-cnn 1.0.0",
            Episode = second,
            Status = status,
            Since = T0.AddSeconds(second),
            ClosedAt = status == "closed" ? T0.AddSeconds(second + 5) : null,
            PeakScore = peak,
            PeakWindowId = $"{machine}:{second}",
            DominantChannel = dominant,
            ChannelContributions = new Dictionary<string, float> { [dominant] = 0.8f },
            TopFilters = [new InfluentialFilter("conv1", 3, 2f, 1f)],
            Signature = signature,
            SignatureSaliencyLength = 6,
        };

    /// <summary>A partial window whose times are not whole milliseconds and whose values need every bit kept.</summary>
    internal static WindowCheckpoint Checkpoint(string machine, int samples, float seed, int sinceEmit = 3, long emitted = 7)
    {
        const int Channels = 3;
        var times = Enumerable.Range(0, samples).Select(i => T0.AddTicks((i * 1_000_0003L) + 1)).ToArray();
        var values = Enumerable.Range(0, samples * Channels).Select(i => seed + (i / 7f)).ToArray();
        if (values.Length > 2)
        {
            values[0] = BitConverter.Int32BitsToSingle(0x7FC0_1234); // a NaN with a payload
            values[1] = -0f;
            values[2] = float.Epsilon;
        }

        return new WindowCheckpoint(machine, times, values, sinceEmit, emitted);
    }

    internal static void AssertSame(WindowCheckpoint expected, WindowCheckpoint actual)
    {
        Assert.Equal(expected.Machine, actual.Machine);
        Assert.Equal(expected.Times.Select(t => (t.UtcTicks, t.Offset)), actual.Times.Select(t => (t.UtcTicks, t.Offset)));
        Assert.Equal(expected.Values.Select(BitConverter.SingleToInt32Bits), actual.Values.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(expected.SinceEmit, actual.SinceEmit);
        Assert.Equal(expected.Emitted, actual.Emitted);
    }
}
