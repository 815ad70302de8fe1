using System.Diagnostics;
using System.Globalization;
using TSViz.Explain;
using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Alerts;
using TSViz.Plugins.Drift;

namespace TSViz.Monitor.Benchmarking;

/// <summary>
/// Drift detection on streams planted for it (bench --only drift): the simulator's machines stepped offline at 10 Hz,
/// windowed as the monitor does (Hop, the model's window length), scored and explained on the deployed weights with the
/// live path's saliency (gradient x input) and top filters (3 per layer), alert windows left out as the live path leaves
/// them out. Every machine's reference is built from its first 2 hours (the nightly job's builder); then (a) m1's torque
/// starts to ripple (0.3 Nm, period 3 samples, ramped in over an hour) so the reason moves while the scores stay normal,
/// (b) m2's pressure level steps up by 0.5 bar, (c) m3-m6 stay as they were. Prints the detection delays, what was
/// found to move, the false alarms per machine-hour, and the comparison's cost per window against recounting the
/// rolling window (the baseline).
/// </summary>
internal static class DriftBench
{
    private const double Rate = 10;
    private const double ReferenceHours = 2;
    private const double OnsetHours = 3;
    private const double AnomalyEverySeconds = 600;

    public static void Run(TextWriter output, Explainer explainer, double hours)
    {
        var metadata = explainer.Metadata;
        if (!metadata.Channels.SequenceEqual(SimulatedMachine.Channels) || metadata.DecisionThreshold is not { } threshold)
        {
            output.WriteLine("drift: the model is not the simulator's (pressure, temperature, torque with a threshold); nothing to measure");
            return;
        }

        var defaults = new MonitorOptions();
        var settings = defaults.Drift;
        var start = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var onset = start.AddHours(OnsetHours);
        var scenarios = new (string Machine, SimulatorDrift[] Drifts, string Planted)[]
        {
            ("m1", [new("m1", "ripple", "torque", 0.3, OnsetHours * 3600, 3600)], DriftKinds.Explanation),
            ("m2", [new("m2", "level", "pressure", 0.5, OnsetHours * 3600, 0)], DriftKinds.Input),
            ("m3", [], string.Empty),
            ("m4", [], string.Empty),
            ("m5", [], string.Empty),
            ("m6", [], string.Empty),
        };
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"drift: {scenarios.Length} simulated machines at {Rate:0} Hz for {hours:0.#} h, windows of {metadata.WindowLength} every {defaults.Hop} samples, reference = first {ReferenceHours:0} h, rolling {settings.RollingWindows} windows, CUSUM limit {settings.CusumLimit}, margin {settings.Margin}, a point anomaly every {AnomalyEverySeconds:0} s per machine on average"));
        var watch = Stopwatch.StartNew();
        var results = scenarios.Select((s, i) => Stream(explainer, threshold, defaults, s.Machine, s.Drifts, start, hours, 20_261_204 + i)).ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"drift: {results.Sum(r => r.Windows):N0} windows simulated, scored and explained in {watch.Elapsed.TotalSeconds:F1} s"));

        double falseAlarmHours = 0;
        int falseAlarms = 0;
        for (int i = 0; i < scenarios.Length; i++)
        {
            var (machine, drifts, planted) = scenarios[i];
            var r = results[i];
            if (r.Profile is null)
            {
                output.WriteLine($"drift: {machine}: too few normal reference windows ({r.ReferenceWindows}); no reference");
                continue;
            }

            var refDescription = string.Create(CultureInfo.InvariantCulture,
                $"reference {r.Profile.Windows:N0} windows, null levels input {r.Profile.Thresholds.Input:F4} / score {r.Profile.Thresholds.Score:F4} / explanation {r.Profile.Thresholds.Explanation:F4} bits");
            if (drifts.Length == 0)
            {
                double monitored = (r.End - r.MonitorStart).TotalHours;
                falseAlarmHours += monitored;
                falseAlarms += r.Entries.Count;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"drift (c) {machine} stationary: {r.Entries.Count} drift alarms in {monitored:F1} h after its reference ({string.Join(", ", r.Entries.Select(e => $"{e.Kind} at {(e.At - start).TotalHours:F2} h"))}); {refDescription}"));
                continue;
            }

            var before = r.Entries.Where(e => e.At < onset).ToList();
            falseAlarmHours += (onset - r.MonitorStart).TotalHours;
            falseAlarms += before.Count;
            var after = r.Entries.Where(e => e.At >= onset).ToList();
            var first = after.FirstOrDefault(e => e.Kind == planted);
            string label = planted == DriftKinds.Explanation ? "(a)" : "(b)";
            string change = drifts[0].Kind == "ripple"
                ? string.Create(CultureInfo.InvariantCulture, $"{drifts[0].Channel} ripple {drifts[0].Amount} (period {SimulatorDrift.RipplePeriod} samples) ramped in over {drifts[0].RampSeconds / 60:0} min")
                : string.Create(CultureInfo.InvariantCulture, $"{drifts[0].Channel} level {drifts[0].Amount:+0.0##;-0.0##} at once");
            string found = first is null
                ? $"NOT detected within {(r.End - onset).TotalHours:F1} h"
                : string.Create(CultureInfo.InvariantCulture,
                    $"{planted} drift {first.Windows:N0} compared windows ({(first.At - onset).TotalMinutes:F1} min) after onset: {first.Moved}");
            string others = string.Join(", ", after.Where(e => e != first).GroupBy(e => e.Kind).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} after {(g.First().At - onset).TotalMinutes:F1} min")));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"drift {label} {machine} {change}: {found}; other kinds: {(others.Length == 0 ? "none" : others)}; before onset: {before.Count} alarms; scores after onset: mean {r.MeanScoreAfter:F4} (before {r.MeanScoreBefore:F4}), {r.AnomaliesAfter} windows flagged; torque share {r.TorqueShareBefore:P0} -> {r.TorqueShareAfter:P0}; {refDescription}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"drift (c) false alarms: {falseAlarms} in {falseAlarmHours:F1} machine-hours without a planted change = {falseAlarms / Math.Max(1e-9, falseAlarmHours):F3} per machine-hour"));
        Cost(output, results.First(r => r.Profile is not null && r.Sample.Count > 0), settings.CusumLimit);
    }

    /// <summary>The comparison's cost per window: the incremental tally against recounting the rolling window (baseline).</summary>
    private static void Cost(TextWriter output, Result result, double limit)
    {
        var sample = result.Sample;
        var detector = new DriftDetector(result.Profile!, limit);
        var watch = Stopwatch.StartNew();
        int n = 0;
        while (watch.Elapsed.TotalSeconds < 1 || n < sample.Count)
        {
            detector.Observe(sample[n++ % sample.Count]);
        }

        double incremental = watch.Elapsed.TotalMicroseconds / n;
        var tally = new DriftTally(result.Profile!);
        var ring = new Queue<DriftTally.Binned>();
        var reference = new DriftTally(result.Profile!);
        foreach (var o in sample.Take(result.Profile!.Rolling))
        {
            reference.Add(tally.Bin(o));
        }

        watch.Restart();
        int m = 0;
        while (watch.Elapsed.TotalSeconds < 1)
        {
            ring.Enqueue(tally.Bin(sample[m++ % sample.Count]));
            if (ring.Count > result.Profile.Rolling)
            {
                ring.Dequeue();
            }

            var recount = tally.Empty();
            foreach (var b in ring)
            {
                recount.Add(b);
            }

            DriftComparison.Compare(recount, reference, result.Profile.Channels);
        }

        double recounted = watch.Elapsed.TotalMicroseconds / m;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"drift comparison per window: {incremental:F1} us incremental ({1e6 / incremental:N0} windows/s) vs {recounted:F1} us recounting the rolling window (baseline, {1e6 / recounted:N0} windows/s): {recounted / incremental:F1}x"));
    }

    private static Result Stream(Explainer explainer, double threshold, MonitorOptions defaults, string id, SimulatorDrift[] drifts, DateTimeOffset start, double hours, int seed)
    {
        var settings = defaults.Drift;
        var metadata = explainer.Metadata;
        int channels = metadata.Channels.Count, length = metadata.WindowLength, hop = defaults.Hop;
        var random = new GaussianRandom(seed);
        var machine = new SimulatedMachine(id, random);
        var alerts = new AlertTracker(new AlertSettings { OpenAt = threshold, CloseBelow = Math.Max(0, threshold - defaults.AlertHysteresis), CloseAfterWindows = defaults.AlertCloseAfterWindows });
        var referenceEnd = start.AddHours(ReferenceHours);
        var onset = start.AddHours(OnsetHours);
        long samples = (long)(hours * 3600 * Rate);
        var series = new float[channels][];
        for (int c = 0; c < channels; c++)
        {
            series[c] = new float[length];
        }

        var result = new Result { MonitorStart = referenceEnd };
        var reference = new List<DriftObservation>();
        var batch = new List<(float[] Values, DateTimeOffset End)>(512);
        double anomalyProbability = 1.0 / (AnomalyEverySeconds * Rate);
        DriftDetector? detector = null;
        var states = DriftKinds.All.ToDictionary(k => k, _ => DriftStates.Normal, StringComparer.Ordinal);
        double shareBefore = 0, shareAfter = 0, scoreBefore = 0, scoreAfter = 0;
        int countBefore = 0, countAfter = 0, compared = 0;

        void Flush()
        {
            if (batch.Count == 0)
            {
                return;
            }

            var windows = batch.SelectMany(b => b.Values).ToArray();
            var explained = explainer.Explain(windows, batch.Count, new ExplainOptions { TimesInput = true });
            for (int i = 0; i < batch.Count; i++)
            {
                var e = explained[i];
                var end = batch[i].End;
                var (change, state) = alerts.Update(id, end, e.Score, end.ToString("O", CultureInfo.InvariantCulture));
                bool decision = e.Score >= threshold;
                bool inAlert = state is { Open: true } || change == AlertChange.Closed;
                result.Windows++;
                if (end >= onset)
                {
                    result.AnomaliesAfter += decision ? 1 : 0;
                }

                if (inAlert || decision)
                {
                    continue;
                }

                var observation = new DriftObservation(end, e.Score, e.ChannelContributions, [.. e.Layers.SelectMany(l => l.Ranking.Take(defaults.TopFilters).Select(f => DriftObservation.FilterKey(l.Name, f)))],
                    DriftFeatures.Of(batch[i].Values, channels, length, e.Saliency));
                if (end < referenceEnd)
                {
                    reference.Add(observation);
                    continue;
                }

                if (detector is null)
                {
                    result.ReferenceWindows = reference.Count;
                    result.Profile = reference.Count < settings.MinReferenceWindows
                        ? null
                        : DriftProfileBuilder.Build(id, metadata.Version, metadata.Channels, reference.TakeLast(settings.MaxReferenceWindows).ToList(), settings.RollingWindows, settings.Margin, referenceEnd);
                    if (result.Profile is null)
                    {
                        batch.Clear();
                        return;
                    }

                    detector = new DriftDetector(result.Profile, settings.CusumLimit);
                }

                if (end < onset)
                {
                    shareBefore += e.ChannelContributions[2];
                    scoreBefore += e.Score;
                    countBefore++;
                }
                else if (end >= onset.AddHours(1.5))
                {
                    shareAfter += e.ChannelContributions[2];
                    scoreAfter += e.Score;
                    countAfter++;
                }

                if (result.Sample.Count < 20_000)
                {
                    result.Sample.Add(observation);
                }

                var reading = detector.Observe(observation);
                compared++;
                foreach (var kind in reading.Kinds)
                {
                    if (kind.State != states[kind.Kind] && kind.State == DriftStates.Drift)
                    {
                        result.Entries.Add(new Entry(kind.Kind, end, end >= onset ? result.ComparedSinceOnset : compared, kind.Moved.Describe()));
                    }

                    states[kind.Kind] = kind.State;
                }

                if (end >= onset)
                {
                    result.ComparedSinceOnset++;
                }
            }

            batch.Clear();
        }

        for (long n = 0; n < samples; n++)
        {
            double elapsed = n / Rate;
            var values = machine.Step(random);
            machine.Drift(values, drifts, elapsed);
            if (machine.Warm && random.NextDouble() < anomalyProbability)
            {
                machine.Inject(values, random.Next(1, 3), random);
            }

            for (int c = 0; c < channels; c++)
            {
                series[c][n % length] = (float)values[c];
            }

            if (n + 1 >= length && (n + 1 - length) % hop == 0)
            {
                var window = new float[channels * length];
                for (int c = 0; c < channels; c++)
                {
                    for (int t = 0; t < length; t++)
                    {
                        window[(c * length) + t] = series[c][(n + 1 + t) % length];
                    }
                }

                batch.Add((window, start.AddSeconds(elapsed)));
                if (batch.Count == 512)
                {
                    Flush();
                }
            }
        }

        Flush();
        result.End = start.AddSeconds(samples / Rate);
        result.TorqueShareBefore = shareBefore / Math.Max(1, countBefore);
        result.TorqueShareAfter = shareAfter / Math.Max(1, countAfter);
        result.MeanScoreBefore = scoreBefore / Math.Max(1, countBefore);
        result.MeanScoreAfter = scoreAfter / Math.Max(1, countAfter);
        return result;
    }

    private sealed record Entry(string Kind, DateTimeOffset At, int Windows, string Moved);

    private sealed class Result
    {
        public DriftProfile? Profile { get; set; }

        public int ReferenceWindows { get; set; }

        public long Windows { get; set; }

        public DateTimeOffset MonitorStart { get; init; }

        public DateTimeOffset End { get; set; }

        public List<Entry> Entries { get; } = [];

        public List<DriftObservation> Sample { get; } = [];

        public int ComparedSinceOnset { get; set; }

        public int AnomaliesAfter { get; set; }

        public double TorqueShareBefore { get; set; }

        public double TorqueShareAfter { get; set; }

        public double MeanScoreBefore { get; set; }

        public double MeanScoreAfter { get; set; }
    }
}
