using TSViz.Plugins.History;
using TSViz.Plugins.Windows;
using static TSViz.Plugins.Tests.History.HistoryTestData;

namespace TSViz.Plugins.Tests.History;

public sealed class CheckpointCodecTests
{
    [Fact]
    public void Encode_UtcSamples_VersionByteAndFixedSizesOnly()
    {
        var checkpoint = Checkpoint("m1", 5, 1f);
        var bytes = CheckpointCodec.Encode(checkpoint);
        Assert.Equal(CheckpointCodec.Version, bytes[0]);
        Assert.Equal(0, bytes[1]); // no offsets: every sample is UTC
        Assert.Equal(22 + (5 * 8) + (15 * 4), bytes.Length);
        Assert.True(CheckpointCodec.TryDecode("m1", bytes, out var decoded));
        AssertSame(checkpoint, decoded!);
    }

    [Fact]
    public void TryDecode_SamplesWithOffsets_KeepEachOffset()
    {
        var checkpoint = new WindowCheckpoint("m1", [T0, T0.ToOffset(TimeSpan.FromHours(1)).AddTicks(7), T0.ToOffset(TimeSpan.FromMinutes(-570)).AddSeconds(2)], [1f, float.NaN, float.MaxValue], 2, long.MaxValue);
        var bytes = CheckpointCodec.Encode(checkpoint);
        Assert.Equal(1, bytes[1]);
        Assert.True(CheckpointCodec.TryDecode("m1", bytes, out var decoded));
        AssertSame(checkpoint, decoded!);
    }

    [Fact]
    public void TryDecode_OtherVersionTruncatedOrPadded_ReturnsFalse()
    {
        var bytes = CheckpointCodec.Encode(Checkpoint("m1", 3, 1f));
        var newer = (byte[])bytes.Clone();
        newer[0] = CheckpointCodec.Version + 1;
        Assert.False(CheckpointCodec.TryDecode("m1", newer, out _));
        Assert.False(CheckpointCodec.TryDecode("m1", bytes.AsSpan(0, bytes.Length - 1), out _));
        Assert.False(CheckpointCodec.TryDecode("m1", [.. bytes, 0], out _));
        Assert.False(CheckpointCodec.TryDecode("m1", [], out _));
    }

    [Fact]
    public void Encode_ValuesNotAWholeNumberOfSamples_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => CheckpointCodec.Encode(new WindowCheckpoint("m1", [T0, T0.AddSeconds(1)], [1f, 2f, 3f, 4f, 5f], 0, 0)));
        Assert.Throws<ArgumentException>(() => CheckpointCodec.Encode(new WindowCheckpoint("m1", [], [1f], 0, 0)));
        Assert.Throws<ArgumentException>(() => CheckpointCodec.Encode(new WindowCheckpoint("m1", [T0], [1f], -1, 0)));
    }
}
