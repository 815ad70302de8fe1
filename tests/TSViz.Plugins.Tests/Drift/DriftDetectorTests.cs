using TSViz.Plugins.Drift;

namespace TSViz.Plugins.Tests.Drift;

public class DriftDetectorTests
{
    private static readonly string[] Channels = ["pressure", "temperature", "torque"];
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void JensenShannon_HandDerivedValues()
    {
        Assert.Equal(0, DriftComparison.JensenShannon([0.2, 0.8], [0.2, 0.8]), 12);
        Assert.Equal(1, DriftComparison.JensenShannon([1, 0], [0, 1]), 12);
        // m = (0.75, 0.25): 0.5 (0.5 log2(0.5/0.75) + 0.5 log2(0.5/0.25)) + 0.5 log2(1/0.75)
        double expected = (0.5 * ((0.5 * Math.Log2(0.5 / 0.75)) + (0.5 * Math.Log2(2)))) + (0.5 * Math.Log2(1 / 0.75));
        Assert.Equal(expected, DriftComparison.JensenShannon([0.5, 0.5], [1, 0]), 12);
        Assert.Equal(DriftComparison.JensenShannon([0.1, 0.6, 0.3], [0.3, 0.3, 0.4]), DriftComparison.JensenShannon([0.3, 0.3, 0.4], [0.1, 0.6, 0.3]), 12);
        Assert.Throws<ArgumentException>(() => DriftComparison.JensenShannon([1], [0.5, 0.5]));
    }

    [Fact]
    public void Features_LevelSpreadAndSaliencyMassByTenthOfTheWindow()
    {
        // Two channels of four steps: steps 0, 1, 2, 3 fall in tenths 0, 2, 5 and 7.
        var f = DriftFeatures.Of([1, 2, 3, 4, 10, 10, 10, 10], 2, 4, [1, 0, 0, 1, 0, 2, 0, -4]);
        Assert.Equal(DriftFeatures.Size(2), f.Length);
        Assert.Equal(2.5f, DriftFeatures.Level(f, 0));
        Assert.Equal(10f, DriftFeatures.Level(f, 1));
        Assert.Equal((float)Math.Sqrt(1.25), DriftFeatures.Spread(f, 2, 0), 6);
        Assert.Equal(0f, DriftFeatures.Spread(f, 2, 1));
        Assert.Equal([0.125f, 0, 0.25f, 0, 0, 0, 0, 0.625f, 0, 0], DriftFeatures.Mass(f, 2).ToArray());
        // Unexplained: no saliency, no mass.
        Assert.All(DriftFeatures.Mass(DriftFeatures.Of([1, 2, 3, 4, 10, 10, 10, 10], 2, 4, []), 2).ToArray(), m => Assert.Equal(0f, m));
        Assert.Throws<ArgumentException>(() => DriftFeatures.Of([1, 2, 3], 2, 4, []));
    }

    [Fact]
    public void Build_TooFewWindowsForFourRollingBlocks_NoProfile()
    {
        var stream = new Stream(1);
        Assert.Null(DriftProfileBuilder.Build("m1", "v1", Channels, stream.Take(399), 100, 2, T0));
        var profile = DriftProfileBuilder.Build("m1", "v1", Channels, stream.Take(400), 100, 2, T0);
        Assert.NotNull(profile);
        Assert.Equal(400, profile.Windows);
        Assert.All(profile.Level, h => Assert.Equal(1, h.Probabilities.Sum(), 9));
        Assert.True(profile.Thresholds.Input >= DriftProfileBuilder.MinimumThreshold);
    }

    [Fact]
    public void NullLevel_TheMarginNeverPutsItOutOfReach()
    {
        double reach40 = DriftProfileBuilder.Reachable(40), reach200 = DriftProfileBuilder.Reachable(200);
        Assert.InRange(reach40, 0.6, reach200); // smoothing weighs more on a short rolling window
        Assert.InRange(reach200, 0.85, 1);
        Assert.Equal(0.2, DriftProfileBuilder.NullLevel(0.1, 2, 200), 12); // far from the bound: the margin
        Assert.Equal(0.4 + ((reach40 - 0.4) / 2), DriftProfileBuilder.NullLevel(0.4, 2, 40), 12); // near it: halfway
        Assert.Equal(0.8, DriftProfileBuilder.NullLevel(0.8, 2, 40), 12); // beyond it: blind, but never below the blocks
        Assert.Equal(DriftProfileBuilder.MinimumThreshold, DriftProfileBuilder.NullLevel(0, 2, 200));

        // A short rolling window on strongly autocorrelated levels: a shift beyond the reference's range is still found.
        var stream = new Stream(3);
        var detector = new DriftDetector(DriftProfileBuilder.Build("m1", "v1", Channels, stream.Take(4000), 40, 2, T0)!, 10);
        foreach (var o in stream.Take(200))
        {
            detector.Observe(o);
        }

        stream.PressureShift = 6 * Stream.LevelSd;
        Assert.Contains(stream.Take(400), o => detector.Observe(o).Kinds.Any(k => k.Kind == DriftKinds.Input && k.State == DriftStates.Drift));
    }

    [Fact]
    public void Stationary_AutocorrelatedStream_NoDriftOver20000Windows()
    {
        var stream = new Stream(7);
        var profile = DriftProfileBuilder.Build("m1", "v1", Channels, stream.Take(4000), 100, 2, T0)!;
        var detector = new DriftDetector(profile, 10);
        int alarms = 0, compared = 0;
        foreach (var o in stream.Take(20_000))
        {
            var reading = detector.Observe(o);
            alarms += reading.Changed && reading.Kinds.Any(k => k.State == DriftStates.Drift) ? 1 : 0;
            compared += reading.State == DriftStates.Warming ? 0 : 1;
        }

        Assert.Equal(20_000 - 99, compared);
        Assert.Equal(0, alarms);
    }

    [Fact]
    public void Stationary_ButCalibratedAsIfIndependent_WouldRaiseFalseAlarms()
    {
        // The same stream with a reference of shuffled windows: its blocks look alike, the null levels come out too low and
        // the autocorrelated live stream drifts "all the time". This is why the calibration keeps the reference in order.
        var stream = new Stream(7);
        var shuffle = new Random(11);
        var reference = stream.Take(4000).OrderBy(_ => shuffle.Next()).ToList();
        var detector = new DriftDetector(DriftProfileBuilder.Build("m1", "v1", Channels, reference, 100, 2, T0)!, 10);
        int alarms = stream.Take(20_000).Select(detector.Observe).Count(r => r.Changed && r.State == DriftStates.Drift);
        Assert.True(alarms > 0, "a shuffled reference should underestimate the null levels");
    }

    [Fact]
    public void LevelShift_RaisesInputDrift_NamesTheChannel_AndLeavesWithHysteresis()
    {
        var stream = new Stream(3);
        // The rolling window spans many correlation times of the levels (20 here), as Drift:RollingWindows should.
        var profile = DriftProfileBuilder.Build("m1", "v1", Channels, stream.Take(8000), 400, 2, T0)!;
        var detector = new DriftDetector(profile, 10);
        foreach (var o in stream.Take(1000))
        {
            Assert.Equal(DriftStates.Normal, detector.Observe(o) is { State: DriftStates.Warming } ? DriftStates.Normal : detector.Latest!.State);
        }

        stream.PressureShift = 4 * Stream.LevelSd;
        int? detected = null;
        DriftReading? reading = null;
        for (int i = 0; i < 2000 && detected is null; i++)
        {
            reading = detector.Observe(stream.Next());
            if (reading.Kinds.Single(k => k.Kind == DriftKinds.Input).State == DriftStates.Drift)
            {
                detected = i;
            }
        }

        Assert.True(detected is not null, $"not detected: null level {profile.Thresholds.Input:F3}, divergence {reading!.Kinds[0].Value:F3}, cusum {reading.Kinds[0].Cusum:F1}, {reading.Kinds[0].Moved.Describe()}");
        Assert.True(detected < 400, $"detected after {detected} windows");
        var input = reading!.Kinds.Single(k => k.Kind == DriftKinds.Input);
        Assert.Equal("level", input.Moved.Component);
        Assert.Equal("pressure", input.Moved.Channel);
        Assert.True(input.Moved.To - input.Moved.From > 2 * Stream.LevelSd, input.Moved.Describe());
        Assert.Equal(DriftStates.Normal, reading.Kinds.Single(k => k.Kind == DriftKinds.Explanation).State);
        Assert.Equal(DriftStates.Normal, reading.Kinds.Single(k => k.Kind == DriftKinds.Score).State);

        // Back to normal: the state stays drift until the CUSUM has drained (hysteresis), then leaves once and stays normal.
        stream.PressureShift = 0;
        var states = new List<string>();
        for (int i = 0; i < 5000; i++)
        {
            states.Add(detector.Observe(stream.Next()).Kinds.Single(k => k.Kind == DriftKinds.Input).State);
        }

        int firstNormal = states.IndexOf(DriftStates.Normal);
        Assert.True(firstNormal > 200, $"left drift after {firstNormal} windows, before the rolling window had even refilled");
        Assert.All(states.Skip(firstNormal), s => Assert.Equal(DriftStates.Normal, s));
    }

    [Fact]
    public void ReasonsMove_ScoresAndInputsDoNot_RaisesExplanationDriftOnTheTorqueShare()
    {
        var stream = new Stream(5);
        var profile = DriftProfileBuilder.Build("m1", "v1", Channels, stream.Take(4000), 100, 2, T0)!;
        var detector = new DriftDetector(profile, 10);
        foreach (var o in stream.Take(300))
        {
            detector.Observe(o);
        }

        stream.TorqueShare = 0.8;
        DriftReading reading = detector.Observe(stream.Next());
        for (int i = 0; i < 1000 && reading.Kinds.Single(k => k.Kind == DriftKinds.Explanation).State != DriftStates.Drift; i++)
        {
            reading = detector.Observe(stream.Next());
        }

        var explanation = reading.Kinds.Single(k => k.Kind == DriftKinds.Explanation);
        Assert.Equal(DriftStates.Drift, explanation.State);
        Assert.Equal("share", explanation.Moved.Component);
        Assert.InRange(explanation.Moved.From, 0.35, 0.45);
        Assert.True(explanation.Moved.To > explanation.Moved.From + 0.1, explanation.Moved.Describe());
        Assert.Equal(DriftStates.Normal, reading.Kinds.Single(k => k.Kind == DriftKinds.Input).State);
        Assert.Equal(DriftStates.Normal, reading.Kinds.Single(k => k.Kind == DriftKinds.Score).State);
        var shares = detector.Distributions().Where(d => d.Component == "share").ToList();
        Assert.Equal(Channels, shares.Select(d => d.Channel));
        Assert.All(shares, d => Assert.Equal(d.Reference.Count, d.Current.Count));
    }

    /// <summary>
    /// A machine's windows: AR(1) levels (phi 0.95, so neighbouring windows are alike), spreads, a lognormal score,
    /// channel shares around (0.3, 0.3, 0.4) wandering slowly, top filters drawn from fixed frequencies, saliency mass.
    /// </summary>
    private sealed class Stream(int seed)
    {
        public const double LevelSd = 1.0;
        private const double Phi = 0.95;
        private readonly Random random = new(seed);
        private readonly double[] level = new double[3];
        private double shareNoise;
        private int count;

        public double PressureShift { get; set; }

        public double TorqueShare { get; set; } = 0.4;

        public IReadOnlyList<DriftObservation> Take(int n) => [.. Enumerable.Range(0, n).Select(_ => Next())];

        public DriftObservation Next()
        {
            double innovation = LevelSd * Math.Sqrt(1 - (Phi * Phi));
            for (int c = 0; c < 3; c++)
            {
                level[c] = (Phi * level[c]) + (innovation * Normal());
            }

            shareNoise = (0.9 * shareNoise) + (0.02 * Normal());
            double torque = Math.Clamp(TorqueShare + shareNoise, 0.05, 0.95);
            float[] shares = [(float)((1 - torque) / 2), (float)((1 - torque) / 2), (float)torque];
            var features = new float[DriftFeatures.Size(3)];
            features[0] = (float)(5 + level[0] + PressureShift);
            features[1] = (float)(80 + level[1]);
            features[2] = (float)(12 + level[2]);
            for (int c = 0; c < 3; c++)
            {
                features[3 + c] = (float)Math.Exp(-1 + (0.1 * Normal()));
            }

            var mass = Enumerable.Range(0, DriftFeatures.Segments).Select(s => 1 + (0.1 * s) + (0.2 * random.NextDouble())).ToArray();
            for (int s = 0; s < mass.Length; s++)
            {
                features[6 + s] = (float)(mass[s] / mass.Sum());
            }

            string[] filters = [$"conv1/{(random.NextDouble() < 0.7 ? 1 : random.Next(0, 16))}", $"conv2/{(random.NextDouble() < 0.5 ? 3 : random.Next(0, 32))}"];
            return new DriftObservation(T0.AddSeconds(count++), (float)Math.Exp(-5 + (0.5 * Normal())), shares, filters, features);
        }

        private double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
    }
}
