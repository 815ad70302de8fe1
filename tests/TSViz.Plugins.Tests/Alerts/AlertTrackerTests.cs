using TSViz.Plugins.Alerts;

namespace TSViz.Plugins.Tests.Alerts;

public sealed class AlertTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Update_Episode_OpensOnceKeepsThePeakAndClosesWithHysteresis()
    {
        var tracker = new AlertTracker(new AlertSettings { OpenAt = 0.5, CloseBelow = 0.3, CloseAfterWindows = 2 });
        double[] scores = [0.1, 0.6, 0.9, 0.45, 0.55, 0.2, 0.4, 0.2, 0.1, 0.2];
        var changes = scores.Select((s, i) => tracker.Update("m", T0.AddSeconds(i), s, $"w{i}").Change).ToList();

        // Opens at 0.6, peak 0.9; 0.45 and 0.55 stay above the closing level; 0.2 then 0.4 resets the count;
        // 0.2, 0.1 close it. The later 0.2 does nothing.
        Assert.Equal(
            [AlertChange.None, AlertChange.Opened, AlertChange.PeakRaised, AlertChange.None, AlertChange.None,
             AlertChange.None, AlertChange.None, AlertChange.None, AlertChange.Closed, AlertChange.None],
            changes);
        var state = tracker.Current("m")!;
        Assert.False(state.Open);
        Assert.Equal(0.9, state.PeakScore);
        Assert.Equal("w2", state.PeakWindowId);
        Assert.Equal(T0.AddSeconds(1), state.Since);
        Assert.Equal(T0.AddSeconds(8), state.ClosedAt);
        Assert.Equal(1, state.Episode);
    }

    [Fact]
    public void Update_SecondEpisode_CountsUpAndMachinesAreIndependent()
    {
        var tracker = new AlertTracker(new AlertSettings { OpenAt = 0.5, CloseBelow = 0.5, CloseAfterWindows = 1 });
        tracker.Update("a", T0, 0.7, "a1");
        tracker.Update("a", T0.AddSeconds(1), 0.1, "a2");
        var (change, state) = tracker.Update("a", T0.AddSeconds(2), 0.8, "a3");
        Assert.Equal(AlertChange.Opened, change);
        Assert.Equal(2, state!.Episode);
        Assert.Null(tracker.Current("b"));
        Assert.Equal(AlertChange.None, tracker.Update("b", T0, 0.2, "b1").Change);
    }

    [Fact]
    public void Restore_OpenEpisode_ContinuesItsPeakClosesWithHysteresisAndNumbersTheNextAfterIt()
    {
        var tracker = new AlertTracker(new AlertSettings { OpenAt = 0.5, CloseBelow = 0.3, CloseAfterWindows = 2 });
        tracker.Restore(new AlertState("m", true, T0, null, 0.7, "w0", 41));

        var (change, state) = tracker.Update("m", T0.AddSeconds(1), 0.8, "w1");
        Assert.Equal(AlertChange.PeakRaised, change); // the restored episode, not a new one
        Assert.Equal((41L, T0, 0.8, "w1"), (state!.Episode, state.Since, state.PeakScore, state.PeakWindowId));
        Assert.Equal(AlertChange.None, tracker.Update("m", T0.AddSeconds(2), 0.1, "w2").Change);
        (change, state) = tracker.Update("m", T0.AddSeconds(3), 0.1, "w3");
        Assert.Equal(AlertChange.Closed, change);
        Assert.Equal((false, T0.AddSeconds(3), (string?)null), (state!.Open, state.ClosedAt, state.CloseReason));

        (change, state) = tracker.Update("m", T0.AddSeconds(4), 0.9, "w4");
        Assert.Equal(AlertChange.Opened, change);
        Assert.Equal(42, state!.Episode);
    }

    [Fact]
    public void Restore_ClosedEpisode_NextOpensNumberedAfterIt()
    {
        var tracker = new AlertTracker(new AlertSettings { OpenAt = 0.5, CloseBelow = 0.3 });
        tracker.Restore(new AlertState("m", false, T0, T0.AddMinutes(1), 0.9, "w0", 6, "monitor_restarted"));
        Assert.Equal(AlertChange.None, tracker.Update("m", T0.AddMinutes(2), 0.2, "w1").Change);
        var (change, state) = tracker.Update("m", T0.AddMinutes(3), 0.6, "w2");
        Assert.Equal(AlertChange.Opened, change);
        Assert.Equal((7L, (string?)null, (DateTimeOffset?)null), (state!.Episode, state.CloseReason, state.ClosedAt));
    }

    [Fact]
    public void Close_OpenEpisode_ClosesWithTheReasonAndNothingOpenGivesNull()
    {
        var tracker = new AlertTracker(new AlertSettings { OpenAt = 0.5, CloseBelow = 0.3 });
        Assert.Null(tracker.Close("m", T0, "machine_idle")); // never seen
        tracker.Update("m", T0, 0.9, "w0");

        var closed = tracker.Close("m", T0.AddMinutes(10), "machine_idle");
        Assert.Equal((false, T0.AddMinutes(10), "machine_idle", 1L, 0.9), (closed!.Open, closed.ClosedAt, closed.CloseReason, closed.Episode, closed.PeakScore));
        Assert.Equal(closed, tracker.Current("m"));
        Assert.Null(tracker.Close("m", T0.AddMinutes(11), "machine_idle")); // already closed
        Assert.Equal(2, tracker.Update("m", T0.AddMinutes(12), 0.9, "w1").State!.Episode);
    }

    [Fact]
    public void Restore_SameMachineTwice_AtMostOneOpenEpisode()
    {
        var tracker = new AlertTracker(new AlertSettings { OpenAt = 0.5, CloseBelow = 0.3 });
        tracker.Restore(new AlertState("m", true, T0, null, 0.7, "w0", 1));
        tracker.Restore(new AlertState("m", true, T0.AddMinutes(5), null, 0.6, "w5", 2));
        tracker.Restore(new AlertState("n", false, T0, T0.AddMinutes(1), 0.6, "n0", 3));

        Assert.Equal(2, tracker.Machines);
        Assert.Equal(2, tracker.Current("m")!.Episode);
        Assert.Equal(AlertChange.None, tracker.Update("m", T0.AddMinutes(6), 0.55, "w6").Change); // above the open level, yet no second episode
        Assert.Equal(2, tracker.Close("m", T0.AddMinutes(7), "monitor_restarted")!.Episode);
        Assert.Null(tracker.Close("m", T0.AddMinutes(7), "monitor_restarted"));
    }

    [Fact]
    public void Remove_TrackedMachine_ForgetsItsEpisodes()
    {
        var tracker = new AlertTracker(new AlertSettings { OpenAt = 0.5, CloseBelow = 0.3 });
        tracker.Update("m", T0, 0.9, "w0");
        Assert.Equal(1, tracker.Machines);
        Assert.True(tracker.Remove("m"));
        Assert.False(tracker.Remove("m"));
        Assert.Equal(0, tracker.Machines);
        Assert.Null(tracker.Current("m"));
        Assert.Equal(1, tracker.Update("m", T0.AddMinutes(1), 0.9, "w1").State!.Episode);
    }

    [Fact]
    public void Constructor_ClosingLevelAboveOpening_IsRefused()
        => Assert.Throws<ArgumentException>(() => new AlertTracker(new AlertSettings { OpenAt = 0.5, CloseBelow = 0.6 }));
}
