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
    public void Constructor_ClosingLevelAboveOpening_IsRefused()
        => Assert.Throws<ArgumentException>(() => new AlertTracker(new AlertSettings { OpenAt = 0.5, CloseBelow = 0.6 }));
}
