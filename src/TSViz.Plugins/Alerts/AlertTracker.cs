namespace TSViz.Plugins.Alerts;

/// <summary>
/// When alerts open and close. <see cref="AlertTracker"/> checks them when it is made: <see cref="CloseBelow"/> must
/// not exceed <see cref="OpenAt"/>, and <see cref="CloseAfterWindows"/> must be at least 1.
/// </summary>
public sealed record AlertSettings
{
    /// <summary>A window scoring at or above this opens an alert (the model's decision threshold).</summary>
    public required double OpenAt { get; init; }

    /// <summary>An open alert closes after <see cref="CloseAfterWindows"/> consecutive windows below this (hysteresis).</summary>
    public required double CloseBelow { get; init; }

    /// <summary>
    /// How many consecutive windows, each scoring below <see cref="CloseBelow"/>, close an open alert (default 3). A
    /// window at or above <see cref="CloseBelow"/>, or one that raises the peak, starts the count again.
    /// </summary>
    public int CloseAfterWindows { get; init; } = 3;
}

/// <summary>
/// A machine's alert episode: open since when, its peak and the window of the peak. <paramref name="CloseReason"/> says
/// why a closed episode closed when not by hysteresis (monitor_restarted, machine_idle); null otherwise.
/// </summary>
/// <param name="Machine">The machine id.</param>
/// <param name="Open">True while the episode is open; false once it closed.</param>
/// <param name="Since">The end time of the window that opened the episode.</param>
/// <param name="ClosedAt">
/// When it closed: the end time of the window that closed it, or the time given to <see cref="AlertTracker.Close"/>;
/// null while open.
/// </param>
/// <param name="PeakScore">The highest score of the episode's windows.</param>
/// <param name="PeakWindowId">
/// The id of the window that scored <paramref name="PeakScore"/> (the first, on a tie).
/// </param>
/// <param name="Episode">
/// The episode's number for this machine, from 1; the next episode takes the number after it.
/// </param>
/// <param name="CloseReason">Why it closed when not by hysteresis, as a snake_case code; null otherwise.</param>
public sealed record AlertState(string Machine, bool Open, DateTimeOffset Since, DateTimeOffset? ClosedAt, double PeakScore, string PeakWindowId, long Episode, string? CloseReason = null);

/// <summary>What one window did to the machine's alert.</summary>
public enum AlertChange
{
    /// <summary>
    /// Nothing to report: no alert opened, or the open one neither rose nor closed (a low window may still have
    /// counted towards closing it).
    /// </summary>
    None,

    /// <summary>
    /// The window scored at or above <see cref="AlertSettings.OpenAt"/> with no alert open: a new episode.
    /// </summary>
    Opened,

    /// <summary>
    /// The open alert's peak rose: the window scored higher than every earlier window of the episode.
    /// </summary>
    PeakRaised,

    /// <summary>
    /// The window was the <see cref="AlertSettings.CloseAfterWindows"/>th in a row below
    /// <see cref="AlertSettings.CloseBelow"/>: the episode closed, at this window's end.
    /// </summary>
    Closed,
}

/// <summary>
/// One alert per episode, not per window: opens when a window crosses the threshold, keeps the peak score and the
/// window it came from, and closes with hysteresis (several consecutive windows below a lower level), so a score
/// hovering at the threshold does not flap. Not thread-safe.
/// </summary>
public sealed class AlertTracker
{
    private readonly AlertSettings settings;
    private readonly Dictionary<string, (AlertState State, int Below)> machines = new(StringComparer.Ordinal);

    /// <summary>Makes a tracker that follows no machine yet.</summary>
    /// <param name="settings">The levels and the closing count, checked here.</param>
    /// <exception cref="ArgumentNullException"><paramref name="settings"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <see cref="AlertSettings.CloseBelow"/> exceeds <see cref="AlertSettings.OpenAt"/>, or
    /// <see cref="AlertSettings.CloseAfterWindows"/> is less than 1.
    /// </exception>
    public AlertTracker(AlertSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.CloseBelow > settings.OpenAt || settings.CloseAfterWindows < 1)
        {
            throw new ArgumentException("CloseBelow must not exceed OpenAt, and CloseAfterWindows must be at least 1.", nameof(settings));
        }

        this.settings = settings;
    }

    /// <summary>The levels and the closing count the tracker was made with.</summary>
    public AlertSettings Settings => settings;

    /// <summary>Machines with an alert state (open or closed).</summary>
    public int Machines => machines.Count;

    /// <summary>The machine's last alert (open or closed), if it ever had one.</summary>
    public AlertState? Current(string machine) => machines.TryGetValue(machine, out var entry) ? entry.State : null;

    /// <summary>
    /// Sets a machine's alert as a restarted monitor loads it from history, replacing any state the machine had: an
    /// open episode continues (its peak can still rise, it closes with hysteresis counted afresh), and the next
    /// episode is numbered <see cref="AlertState.Episode"/> + 1 either way.
    /// </summary>
    public void Restore(AlertState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentException.ThrowIfNullOrEmpty(state.Machine, nameof(state));
        machines[state.Machine] = (state, 0);
    }

    /// <summary>Closes the machine's open episode for a reason other than hysteresis; the closed state, or null when none is open.</summary>
    public AlertState? Close(string machine, DateTimeOffset at, string reason)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (!machines.TryGetValue(machine, out var entry) || !entry.State.Open)
        {
            return null;
        }

        var closed = entry.State with { Open = false, ClosedAt = at, CloseReason = reason };
        machines[machine] = (closed, 0);
        return closed;
    }

    /// <summary>Forgets a machine (eviction); its next episode would be numbered 1 unless its state is restored. False when it was not tracked.</summary>
    public bool Remove(string machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return machines.Remove(machine);
    }

    /// <summary>
    /// Takes one scored window of <paramref name="machine"/>, in the machine's window order, and says what it did to
    /// the machine's alert.
    /// </summary>
    /// <param name="machine">The machine id.</param>
    /// <param name="windowEnd">
    /// The time of the window's last sample: <see cref="AlertState.Since"/> of an episode it opens,
    /// <see cref="AlertState.ClosedAt"/> of one it closes.
    /// </param>
    /// <param name="score">The model's score of the window, compared with the settings' levels.</param>
    /// <param name="windowId">
    /// The window's id, kept as <see cref="AlertState.PeakWindowId"/> when it is the peak.
    /// </param>
    /// <returns>
    /// The change and the machine's alert after the window: the new or updated state, the unchanged one for
    /// <see cref="AlertChange.None"/> (possibly a closed episode), or null for a machine that never had an alert.
    /// </returns>
    public (AlertChange Change, AlertState? State) Update(string machine, DateTimeOffset windowEnd, double score, string windowId)
    {
        machines.TryGetValue(machine, out var entry);
        var state = entry.State;
        if (state is not { Open: true })
        {
            if (score < settings.OpenAt)
            {
                return (AlertChange.None, state);
            }

            var opened = new AlertState(machine, true, windowEnd, null, score, windowId, (state?.Episode ?? 0) + 1);
            machines[machine] = (opened, 0);
            return (AlertChange.Opened, opened);
        }

        if (score > state.PeakScore)
        {
            var raised = state with { PeakScore = score, PeakWindowId = windowId };
            machines[machine] = (raised, 0);
            return (AlertChange.PeakRaised, raised);
        }

        int below = score < settings.CloseBelow ? entry.Below + 1 : 0;
        if (below >= settings.CloseAfterWindows)
        {
            var closed = state with { Open = false, ClosedAt = windowEnd, CloseReason = null };
            machines[machine] = (closed, 0);
            return (AlertChange.Closed, closed);
        }

        machines[machine] = (state, below);
        return (AlertChange.None, state);
    }
}
