namespace TSViz.Monitor.Settings;

/// <summary>
/// The web view's and API's on-demand explanations (influence, trace, adversarial, inversion): they run on their own
/// single-threaded explainers, at most <see cref="MaxConcurrent"/> at a time, so a burst of requests cannot hold up the live path.
/// </summary>
public sealed class InteractiveSettings
{
    /// <summary>Interactive explanations computed at once (each on its own explainer, one core at most).</summary>
    public int MaxConcurrent { get; set; } = 1;

    /// <summary>Requests that may wait for a turn; beyond them a request is answered 429 with Retry-After.</summary>
    public int MaxQueued { get; set; } = 4;

    /// <summary>Seconds a refused client is told to wait (the Retry-After header of the 429).</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>
    /// Linux nice value (0-19) of the interactive explainers' threads: at 19 they get the processor only when the live
    /// path leaves it idle; 0 runs them at the live path's priority. Elsewhere any value above 0 means the lowest thread priority.
    /// </summary>
    public int Nice { get; set; } = 19;

    /// <summary>Section Monitor:Interactive's rules.</summary>
    internal void Validate(OptionFailures failures)
    {
        failures.Check(MaxConcurrent is >= 1 and <= 64, "Interactive:MaxConcurrent", "must lie in 1..64", MaxConcurrent);
        failures.Check(MaxQueued is >= 0 and <= 10_000, "Interactive:MaxQueued", "must lie in 0..10000", MaxQueued);
        failures.Check(RetryAfterSeconds is >= 1 and <= 3600, "Interactive:RetryAfterSeconds", "must lie in 1..3600", RetryAfterSeconds);
        failures.Check(Nice is >= 0 and <= 19, "Interactive:Nice", "must lie in 0..19", Nice);
    }
}
