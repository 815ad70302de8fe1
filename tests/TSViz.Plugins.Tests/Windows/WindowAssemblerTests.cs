using TSViz.Plugins.Ingest;
using TSViz.Plugins.Windows;

namespace TSViz.Plugins.Tests.Windows;

public sealed class WindowAssemblerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);

    private static Sample At(string machine, int second, float value) => new(machine, Start.AddSeconds(second), [value, value * 10]);

    [Fact]
    public void Add_FirstWindowWhenFullThenEveryHop_ChannelMajorOldestFirst()
    {
        var assembler = new WindowAssembler(new WindowSettings { Length = 4, Hop = 2, MaxGap = TimeSpan.FromSeconds(5) }, 2);
        var windows = new List<AssembledWindow>();
        for (int t = 0; t < 9; t++)
        {
            Assert.Equal(SampleOutcome.Accepted, assembler.Add(At("m1", t, t), windows));
        }

        // Full at t = 3, then at t = 5 and t = 7.
        Assert.Equal(3, windows.Count);
        Assert.Equal([0f, 1, 2, 3, 0, 10, 20, 30], windows[0].Values);
        Assert.Equal([4f, 5, 6, 7, 40, 50, 60, 70], windows[2].Values);
        Assert.Equal(Start.AddSeconds(4), windows[2].Start);
        Assert.Equal(Start.AddSeconds(7), windows[2].End);
        Assert.Equal(1, assembler.SamplesUntilNextWindow("m1"));
    }

    [Fact]
    public void Add_MachinesAreIndependent()
    {
        var assembler = new WindowAssembler(new WindowSettings { Length = 3, Hop = 1 }, 2);
        var windows = new List<AssembledWindow>();
        for (int t = 0; t < 3; t++)
        {
            assembler.Add(At("a", t, t), windows);
            assembler.Add(At("b", t, 100 + t), windows);
        }

        Assert.Equal(["a", "b"], windows.Select(w => w.Machine));
        Assert.Equal([100f, 101, 102, 1000, 1010, 1020], windows[1].Values);
    }

    [Fact]
    public void Add_OutOfOrderOrRepeatedSample_IsDroppedAndChangesNothing()
    {
        var assembler = new WindowAssembler(new WindowSettings { Length = 3, Hop = 1 }, 2);
        var windows = new List<AssembledWindow>();
        assembler.Add(At("m", 0, 0), windows);
        assembler.Add(At("m", 2, 2), windows);
        Assert.Equal(SampleOutcome.OutOfOrder, assembler.Add(At("m", 1, 1), windows));
        Assert.Equal(SampleOutcome.OutOfOrder, assembler.Add(At("m", 2, 9), windows));
        assembler.Add(At("m", 3, 3), windows);
        Assert.Equal([0f, 2, 3, 0, 20, 30], Assert.Single(windows).Values);
    }

    [Fact]
    public void Add_GapLongerThanTheLimit_StartsTheWindowAfresh()
    {
        var assembler = new WindowAssembler(new WindowSettings { Length = 3, Hop = 1, MaxGap = TimeSpan.FromSeconds(5) }, 2);
        var windows = new List<AssembledWindow>();
        assembler.Add(At("m", 0, 0), windows);
        assembler.Add(At("m", 1, 1), windows);
        Assert.Equal(SampleOutcome.AcceptedAfterGap, assembler.Add(At("m", 60, 60), windows));
        assembler.Add(At("m", 61, 61), windows);
        Assert.Empty(windows); // only two contiguous samples since the gap
        assembler.Add(At("m", 62, 62), windows);
        Assert.Equal([60f, 61, 62, 600, 610, 620], Assert.Single(windows).Values);
    }

    [Fact]
    public void Constructor_NoChannelsOrNegativeGap_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WindowAssembler(new WindowSettings { Length = 3, Hop = 1 }, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WindowAssembler(new WindowSettings { Length = 3, Hop = 1, MaxGap = TimeSpan.FromSeconds(-1) }, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WindowAssembler(new WindowSettings { Length = 3, Hop = 1, MaxGap = TimeSpan.Zero }, 2));
        Assert.Equal(0, new WindowAssembler(new WindowSettings { Length = 3, Hop = 1, MaxGap = TimeSpan.FromMilliseconds(1) }, 1).Machines);
    }
}
