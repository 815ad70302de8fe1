using System.Globalization;

namespace TSViz.Plugins.Drift;

/// <summary>Drift states.</summary>
public static class DriftStates
{
    /// <summary>Fewer windows than the rolling comparison needs since the detector started.</summary>
    public const string Warming = "warming";

    /// <summary>No evidence of drift.</summary>
    public const string Normal = "normal";

    /// <summary>Drifting: the CUSUM reached its limit and has not drained since.</summary>
    public const string Drift = "drift";
}

/// <summary>What moved most in one kind of drift, in the units of its component.</summary>
/// <param name="Component">level, spread, score, share, filters or time.</param>
/// <param name="Channel">The channel (level, spread, share).</param>
/// <param name="Filter">The filter ("layer/index") whose frequency moved most (filters).</param>
/// <param name="Segment">The stretch of the window (0 the oldest tenth; time).</param>
/// <param name="From">The reference value: mean level or spread in sensor units, mean score, mean share, a filter's
/// frequency among the windows' top filters, a stretch's share of the saliency.</param>
/// <param name="To">The current value over the rolling window.</param>
/// <param name="Divergence">The component's divergence (bits).</param>
public sealed record DriftMove(string Component, string? Channel, string? Filter, int? Segment, double From, double To, double Divergence)
{
    /// <summary>In plain words, e.g. "torque's share of the saliency 46% -> 63%".</summary>
    public string Describe() => Component switch
    {
        "level" => Invariant($"{Channel} level {From:G4} -> {To:G4}"),
        "spread" => Invariant($"{Channel} spread {From:G3} -> {To:G3}"),
        "score" => Invariant($"mean score {From:G3} -> {To:G3}"),
        "share" => Invariant($"{Channel}'s share of the saliency {From:P0} -> {To:P0}"),
        "filters" => Invariant($"filter {Filter} among the top filters in {From:P0} -> {To:P0} of windows"),
        "time" => Invariant($"saliency in tenth {Segment + 1} of the window {From:P0} -> {To:P0}"),
        _ => Component,
    };

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One compared distribution: the reference's and the rolling window's probabilities over the same bins.</summary>
/// <param name="Kind">input, score or explanation.</param>
/// <param name="Component">level, spread, score, share, filters or time.</param>
/// <param name="Channel">The channel (level, spread, share).</param>
/// <param name="Edges">The inner bin edges in the component's units (empty for filters and time).</param>
/// <param name="Labels">The bins' names for filters ("layer/index", then other) and time (tenths 1-10); empty otherwise.</param>
/// <param name="Reference">The reference's probabilities.</param>
/// <param name="Current">The rolling window's probabilities.</param>
/// <param name="Divergence">Their Jensen-Shannon divergence (bits).</param>
public sealed record DriftDistribution(
    string Kind, string Component, string? Channel, IReadOnlyList<double> Edges, IReadOnlyList<string> Labels, IReadOnlyList<double> Reference, IReadOnlyList<double> Current, double Divergence);

/// <summary>One kind's reading.</summary>
/// <param name="Kind">input, score or explanation.</param>
/// <param name="Value">The largest divergence among its components over the rolling window (bits).</param>
/// <param name="Threshold">The reference's null level (bits).</param>
/// <param name="Cusum">The CUSUM of value / threshold - 1.</param>
/// <param name="State">normal or drift.</param>
/// <param name="Moved">What moved most.</param>
public sealed record DriftKindReading(string Kind, double Value, double Threshold, double Cusum, string State, DriftMove Moved);

/// <summary>A machine's drift reading after one window.</summary>
/// <param name="At">The window's end.</param>
/// <param name="State">warming, normal or drift (drift when any kind drifts).</param>
/// <param name="Windows">Windows in the rolling comparison.</param>
/// <param name="Kinds">input, score and explanation (empty while warming).</param>
/// <param name="Changed">The state of some kind changed with this window.</param>
public sealed record DriftReading(DateTimeOffset At, string State, int Windows, IReadOnlyList<DriftKindReading> Kinds, bool Changed);

/// <summary>
/// Live drift detection for one machine against its reference profile. The last <see cref="DriftProfile.Rolling"/>
/// windows are tallied in the reference's bins; after each window every component's Jensen-Shannon divergence from the
/// reference is computed and each kind takes its largest. Each kind's one-sided CUSUM, S = max(0, S + value / threshold
/// - 1) with the threshold the reference's calibrated null level, accumulates evidence over windows, so a single odd
/// stretch does not raise drift but a sustained move does. Hysteresis: a kind enters drift when S reaches the limit
/// and leaves it only when S has drained back to 0 (S is capped at twice the limit so that it drains in bounded time).
/// </summary>
public sealed class DriftDetector
{
    private readonly DriftProfile profile;
    private readonly double limit;
    private readonly DriftTally reference;
    private readonly DriftTally current;
    private readonly DriftTally.Binned?[] ring;
    private readonly Dictionary<string, double> cusum = DriftKinds.All.ToDictionary(k => k, _ => 0.0, StringComparer.Ordinal);
    private readonly Dictionary<string, string> states = DriftKinds.All.ToDictionary(k => k, _ => DriftStates.Normal, StringComparer.Ordinal);
    private int next;
    private int held;

    /// <summary>A detector against <paramref name="profile"/> raising drift when a kind's CUSUM reaches <paramref name="cusumLimit"/>.</summary>
    public DriftDetector(DriftProfile profile, double cusumLimit)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(cusumLimit, 0);
        this.profile = profile;
        limit = cusumLimit;
        reference = new DriftTally(profile);
        reference.LoadReference(profile);
        current = reference.Empty();
        ring = new DriftTally.Binned?[profile.Rolling];
    }

    /// <summary>The profile it compares against.</summary>
    public DriftProfile Profile => profile;

    /// <summary>The latest reading.</summary>
    public DriftReading? Latest { get; private set; }

    /// <summary>The current rolling tally (for the distributions drawn beside the reference's).</summary>
    public DriftTally Current => current;

    /// <summary>Adds a window and returns the reading after it.</summary>
    public DriftReading Observe(DriftObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var binned = current.Bin(observation);
        if (ring[next] is { } old)
        {
            current.Add(old, -1);
        }
        else
        {
            held++;
        }

        ring[next] = binned;
        current.Add(binned);
        next = (next + 1) % ring.Length;
        if (held < ring.Length)
        {
            return Latest = new DriftReading(observation.At, DriftStates.Warming, held, [], false);
        }

        var components = DriftComparison.Compare(current, reference, profile.Channels);
        var kinds = new List<DriftKindReading>(3);
        bool changed = false;
        foreach (string kind in DriftKinds.All)
        {
            double threshold = kind switch
            {
                DriftKinds.Input => profile.Thresholds.Input,
                DriftKinds.Score => profile.Thresholds.Score,
                _ => profile.Thresholds.Explanation,
            };
            var top = components.Where(c => c.Kind == kind).MaxBy(c => c.Divergence)!;
            if (top.Component == "share")
            {
                // When the shares move, one channel gains what the others lose: name the one whose mean share moved most.
                top = top with { Channel = profile.Channels.MaxBy(c => Math.Abs(Mean(current.ShareSum, current, c) - Mean(reference.ShareSum, reference, c))) };
            }

            double s = Math.Clamp(cusum[kind] + (top.Divergence / threshold) - 1, 0, 2 * limit);
            cusum[kind] = s;
            string before = states[kind];
            string state = before == DriftStates.Drift ? (s <= 0 ? DriftStates.Normal : DriftStates.Drift) : (s >= limit ? DriftStates.Drift : DriftStates.Normal);
            states[kind] = state;
            changed |= state != before;
            kinds.Add(new DriftKindReading(kind, top.Divergence, threshold, s, state, Move(top)));
        }

        string overall = kinds.Any(k => k.State == DriftStates.Drift) ? DriftStates.Drift : DriftStates.Normal;
        return Latest = new DriftReading(observation.At, overall, held, kinds, changed);
    }

    /// <summary>Every compared distribution, the reference's and the rolling window's side by side.</summary>
    public IReadOnlyList<DriftDistribution> Distributions()
    {
        var divergences = DriftComparison.Compare(current, reference, profile.Channels);
        double Of(string component, string? channel) => divergences.First(d => d.Component == component && d.Channel == channel).Divergence;
        var list = new List<DriftDistribution>();
        for (int c = 0; c < profile.Channels.Count; c++)
        {
            string channel = profile.Channels[c];
            list.Add(new(DriftKinds.Input, "level", channel, profile.Level[c].Edges, [], DriftTally.Probabilities(reference.Level[c]), DriftTally.Probabilities(current.Level[c]), Of("level", channel)));
            list.Add(new(DriftKinds.Input, "spread", channel, profile.Spread[c].Edges, [], DriftTally.Probabilities(reference.Spread[c]), DriftTally.Probabilities(current.Spread[c]), Of("spread", channel)));
        }

        list.Add(new(DriftKinds.Score, "score", null, profile.Score.Edges, [], DriftTally.Probabilities(reference.Score), DriftTally.Probabilities(current.Score), Of("score", null)));
        for (int c = 0; c < profile.Channels.Count; c++)
        {
            string channel = profile.Channels[c];
            list.Add(new(DriftKinds.Explanation, "share", channel, profile.Share[c].Edges, [], DriftTally.Probabilities(reference.Share[c]), DriftTally.Probabilities(current.Share[c]), Of("share", channel)));
        }

        list.Add(new(DriftKinds.Explanation, "filters", null, [], current.FilterKeys, DriftTally.Probabilities(reference.Filters), DriftTally.Probabilities(current.Filters), Of("filters", null)));
        list.Add(new(DriftKinds.Explanation, "time", null, [], [.. Enumerable.Range(1, DriftFeatures.Segments).Select(i => i.ToString(CultureInfo.InvariantCulture))],
            DriftTally.MassDistribution(reference.Mass), DriftTally.MassDistribution(current.Mass), Of("time", null)));
        return list;
    }

    private double Mean(double[] sums, DriftTally tally, string channel) => sums[IndexOf(channel)] / Math.Max(1, tally.Count);

    private int IndexOf(string channel)
    {
        for (int i = 0; i < profile.Channels.Count; i++)
        {
            if (profile.Channels[i] == channel)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A component's move in its own units, reference against the rolling window.</summary>
    private DriftMove Move(DriftComponent component)
    {
        int c = component.Channel is null ? -1 : IndexOf(component.Channel);
        double n = Math.Max(1, current.Count);
        double r = Math.Max(1, reference.Count);
        switch (component.Component)
        {
            case "level":
                return new(component.Component, component.Channel, null, null, reference.LevelSum[c] / r, current.LevelSum[c] / n, component.Divergence);
            case "spread":
                return new(component.Component, component.Channel, null, null, reference.SpreadSum[c] / r, current.SpreadSum[c] / n, component.Divergence);
            case "share":
                return new(component.Component, component.Channel, null, null, reference.ShareSum[c] / r, current.ShareSum[c] / n, component.Divergence);
            case "score":
                return new(component.Component, null, null, null, reference.ScoreSum / r, current.ScoreSum / n, component.Divergence);
            case "filters":
            {
                int i = Enumerable.Range(0, current.FilterKeys.Count).MaxBy(i => Math.Abs((current.Filters[i] / n) - (reference.Filters[i] / r)));
                return new(component.Component, null, current.FilterKeys[i], null, reference.Filters[i] / r, current.Filters[i] / n, component.Divergence);
            }

            default:
            {
                var from = DriftTally.MassDistribution(reference.Mass);
                var to = DriftTally.MassDistribution(current.Mass);
                int s = Enumerable.Range(0, from.Length).MaxBy(i => Math.Abs(to[i] - from[i]));
                return new(component.Component, null, null, s, from[s], to[s], component.Divergence);
            }
        }
    }
}
