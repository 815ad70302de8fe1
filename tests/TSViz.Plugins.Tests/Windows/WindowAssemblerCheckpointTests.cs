using TSViz.Plugins.Ingest;
using TSViz.Plugins.Windows;

namespace TSViz.Plugins.Tests.Windows;

/// <summary>Checkpoint, Restore and Remove: a machine's partial window survives a restart and can be evicted.</summary>
public sealed class WindowAssemblerCheckpointTests
{
    private const int Channels = 2;

    private static readonly DateTimeOffset Start = new(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);

    private static WindowAssembler Assembler(int length = 4, int hop = 2) => new(new WindowSettings { Length = length, Hop = hop, MaxGap = TimeSpan.FromSeconds(5) }, Channels);

    // Sample i of machine "m", one second apart; with a gap, samples from gapAt on come a minute later.
    private static Sample At(int i, int gapAt = int.MaxValue)
        => new("m", Start.AddSeconds(i + (i >= gapAt ? 60 : 0)), [i, -i * 10]);

    private static List<AssembledWindow> Feed(WindowAssembler assembler, IEnumerable<Sample> samples)
    {
        var windows = new List<AssembledWindow>();
        foreach (var sample in samples)
        {
            assembler.Add(sample, windows);
        }

        return windows;
    }

    [Theory]
    [InlineData(4, 2, 1, int.MaxValue)] // below the length
    [InlineData(4, 2, 3, int.MaxValue)]
    [InlineData(4, 2, 4, int.MaxValue)] // exactly the length: the first window just emitted
    [InlineData(4, 2, 5, int.MaxValue)] // between two hops
    [InlineData(4, 2, 6, int.MaxValue)] // on a hop
    [InlineData(4, 3, 12, int.MaxValue)] // the ring has wrapped several times
    [InlineData(6, 4, 9, int.MaxValue)]
    [InlineData(4, 7, 9, int.MaxValue)] // a hop longer than the window: more samples since the last window than buffered
    [InlineData(4, 2, 8, 7)] // one sample after a gap reset
    [InlineData(4, 2, 10, 7)] // three samples after a gap reset
    [InlineData(4, 2, 7, 7)] // right before the gap sample
    public void Restore_IntoANewAssembler_ContinuesWithTheSameWindows(int length, int hop, int fed, int gapAt)
    {
        var original = Assembler(length, hop);
        Feed(original, Enumerable.Range(0, fed).Select(i => At(i, gapAt)));
        var checkpoint = original.Checkpoint("m");
        Assert.NotNull(checkpoint);

        var restored = Assembler(length, hop);
        restored.Restore(checkpoint);
        Assert.Equal(original.LastTimestamp("m"), restored.LastTimestamp("m"));
        Assert.Equal(original.SamplesUntilNextWindow("m"), restored.SamplesUntilNextWindow("m"));

        var following = Enumerable.Range(fed, 3 * length + hop).Select(i => At(i, gapAt)).ToList();
        var expected = Feed(original, following);
        var actual = Feed(restored, following);
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, actual.Count);
        for (int w = 0; w < expected.Count; w++)
        {
            Assert.Equal(expected[w].Machine, actual[w].Machine);
            Assert.Equal(expected[w].Start, actual[w].Start);
            Assert.Equal(expected[w].End, actual[w].End);
            Assert.Equal(expected[w].Values, actual[w].Values);
        }
    }

    [Fact]
    public void Checkpoint_HoldsTheLastLengthSamplesOldestFirstSampleMajor()
    {
        var assembler = Assembler(length: 4, hop: 3);
        Feed(assembler, Enumerable.Range(0, 6).Select(i => At(i)));

        var checkpoint = assembler.Checkpoint("m")!;
        Assert.Equal("m", checkpoint.Machine);
        Assert.Equal(Enumerable.Range(2, 4).Select(i => Start.AddSeconds(i)), checkpoint.Times);
        Assert.Equal([2f, -20, 3, -30, 4, -40, 5, -50], checkpoint.Values);
        Assert.Equal(2, checkpoint.SinceEmit); // the first window came with sample 3
        Assert.Equal(1, checkpoint.Emitted);
        Assert.Equal(Start.AddSeconds(5), checkpoint.Last);
    }

    [Fact]
    public void Checkpoint_BeforeTheWindowIsFull_HoldsWhatArrived()
    {
        var assembler = Assembler(length: 4);
        Feed(assembler, [At(0), At(1)]);
        var checkpoint = assembler.Checkpoint("m")!;
        Assert.Equal([Start, Start.AddSeconds(1)], checkpoint.Times);
        Assert.Equal([0f, 0, 1, -10], checkpoint.Values);
        Assert.Equal(2, checkpoint.SinceEmit);
        Assert.Equal(0, checkpoint.Emitted);
    }

    [Fact]
    public void Checkpoint_UnknownMachine_IsNull() => Assert.Null(Assembler().Checkpoint("nobody"));

    [Fact]
    public void Checkpoint_IsACopy()
    {
        var assembler = Assembler(length: 2, hop: 1);
        Feed(assembler, [At(0)]);
        var checkpoint = assembler.Checkpoint("m")!;
        checkpoint.Values[0] = 99;
        checkpoint.Times[0] = Start.AddDays(1);
        var window = Assert.Single(Feed(assembler, [At(1)]));
        Assert.Equal([0f, 1, 0, -10], window.Values);
        Assert.Equal(Start, window.Start);
    }

    [Fact]
    public void Restore_ThenASampleAtOrBeforeTheCheckpointsLast_IsOutOfOrder()
    {
        var original = Assembler();
        Feed(original, Enumerable.Range(0, 5).Select(i => At(i)));
        var restored = Assembler();
        restored.Restore(original.Checkpoint("m")!);

        var windows = new List<AssembledWindow>();
        Assert.Equal(SampleOutcome.OutOfOrder, restored.Add(At(4), windows));
        Assert.Equal(SampleOutcome.OutOfOrder, restored.Add(At(2), windows));
        Assert.Equal(SampleOutcome.Accepted, restored.Add(At(5), windows));
        Assert.Equal([2f, 3, 4, 5, -20, -30, -40, -50], Assert.Single(windows).Values);
    }

    [Fact]
    public void Restore_OverAMachineWithSamples_ReplacesItsBuffer()
    {
        var assembler = Assembler(length: 2, hop: 1);
        Feed(assembler, Enumerable.Range(0, 10).Select(i => At(i)));
        assembler.Restore(new WindowCheckpoint("m", [Start.AddSeconds(100)], [7, 70], 1, 0));

        Assert.Equal(Start.AddSeconds(100), assembler.LastTimestamp("m"));
        var window = Assert.Single(Feed(assembler, [new Sample("m", Start.AddSeconds(101), [8, 80])]));
        Assert.Equal([7f, 8, 70, 80], window.Values);
    }

    [Fact]
    public void Restore_EmptyCheckpoint_HoldsTheMachineWithNoSamples()
    {
        var assembler = Assembler();
        assembler.Restore(new WindowCheckpoint("m", [], [], 0, 0));
        Assert.Equal(["m"], assembler.MachineIds);
        Assert.Null(assembler.LastTimestamp("m"));
        Assert.Equal(SampleOutcome.Accepted, assembler.Add(At(0), []));
    }

    public static TheoryData<WindowCheckpoint, string> InvalidCheckpoints => new()
    {
        { new WindowCheckpoint("m", [Start, Start.AddSeconds(1)], [1, 2, 3], 2, 0), "3 values for 2 samples of 2 channels" },
        { new WindowCheckpoint("m", [Start], [1, 2, 3, 4], 1, 0), "4 values for 1 samples" },
        { new WindowCheckpoint("m", [Start, Start], [1, 2, 3, 4], 2, 0), "times out of order" },
        { new WindowCheckpoint("m", [Start.AddSeconds(1), Start], [1, 2, 3, 4], 2, 0), "times out of order" },
        { new WindowCheckpoint("m", [.. Enumerable.Range(0, 5).Select(i => Start.AddSeconds(i))], new float[10], 5, 0), "more than the window length 4" },
        { new WindowCheckpoint("m", [Start], [1, 2], -1, 0), "negative counters" },
        { new WindowCheckpoint("m", [Start], [1, 2], 1, -1), "negative counters" },
        { new WindowCheckpoint("", [Start], [1, 2], 1, 0), "no machine id" },
        { new WindowCheckpoint("m", null!, [1, 2], 1, 0), "no times" },
        { new WindowCheckpoint("m", [Start], null!, 1, 0), "no values" },
    };

    [Theory]
    [MemberData(nameof(InvalidCheckpoints))]
    public void Restore_InvalidCheckpoint_IsRefusedAndChangesNothing(WindowCheckpoint checkpoint, string problem)
    {
        var assembler = Assembler();
        Feed(assembler, Enumerable.Range(0, 3).Select(i => At(i)));
        var before = assembler.Checkpoint("m")!;

        var ex = Assert.Throws<ArgumentException>(() => assembler.Restore(checkpoint));
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        var after = assembler.Checkpoint("m")!;
        Assert.Equal(before.Times, after.Times);
        Assert.Equal(before.Values, after.Values);
        Assert.Equal(before.SinceEmit, after.SinceEmit);
    }

    [Fact]
    public void Restore_Null_Throws() => Assert.Throws<ArgumentNullException>(() => Assembler().Restore(null!));

    [Fact]
    public void Remove_ForgetsTheMachine()
    {
        var assembler = Assembler();
        Feed(assembler, [At(10), new Sample("other", Start, [1, 2])]);

        Assert.True(assembler.Remove("m"));
        Assert.Equal(["other"], assembler.MachineIds);
        Assert.Equal(1, assembler.Machines);
        Assert.Null(assembler.Checkpoint("m"));
        Assert.Null(assembler.LastTimestamp("m"));
        Assert.Equal(4, assembler.SamplesUntilNextWindow("m"));

        // The machine starts afresh: a sample older than the one forgotten is no longer out of order.
        Assert.Equal(SampleOutcome.Accepted, assembler.Add(At(0), []));
    }

    [Fact]
    public void Remove_UnknownMachine_IsFalse() => Assert.False(Assembler().Remove("nobody"));

    [Fact]
    public void MachineIds_IsASnapshotThatSurvivesRemovingWhileGoingThroughIt()
    {
        var assembler = Assembler();
        Feed(assembler, [new Sample("a", Start, [1, 2]), new Sample("b", Start, [1, 2]), new Sample("c", Start, [1, 2])]);
        foreach (string machine in assembler.MachineIds)
        {
            assembler.Remove(machine);
        }

        Assert.Empty(assembler.MachineIds);
        Assert.Equal(0, assembler.Machines);
    }
}
