using TSViz.Explain.Data;

namespace TSViz.Explain.Tests.Data;

public sealed class AnomalyDatasetGeneratorTests
{
    private const int Channels = 3;
    private const int Length = AnomalyDatasetGenerator.WindowLength;

    [Fact]
    public void Generate_SameSeed_GivesIdenticalWindows()
    {
        var a = new AnomalyDatasetGenerator(42).Generate(500);
        var b = new AnomalyDatasetGenerator(42).Generate(500);
        var c = new AnomalyDatasetGenerator(43).Generate(500);
        Assert.Equal(a.Windows.Values, b.Windows.Values);
        Assert.Equal(a.Spikes, b.Spikes);
        Assert.NotEqual(a.Windows.Values, c.Windows.Values);
    }

    [Fact]
    public void Generate_ManyWindows_AboutOneSixthAnomalousAndNeverInPressure()
    {
        var set = new AnomalyDatasetGenerator(7).Generate(12_000);
        int anomalies = set.Spikes.Count(s => s.IsAnomaly);
        double rate = anomalies / 12_000.0;

        // 0.25 * 2/3 = 1/6; a binomial with n = 12,000 has sd 0.0034, so +-0.015 is more than 4 sd.
        Assert.InRange(rate, (1.0 / 6) - 0.015, (1.0 / 6) + 0.015);
        Assert.DoesNotContain(set.Spikes, s => s.Channel == 0);
        Assert.Contains(set.Spikes, s => s.Channel == 1);
        Assert.Contains(set.Spikes, s => s.Channel == 2);
        for (int i = 0; i < set.Spikes.Length; i++)
        {
            Assert.Equal(set.Spikes[i].IsAnomaly ? 1f : 0f, set.Windows.Targets[i]);
        }
    }

    [Fact]
    public void Generate_EverySpike_IsInsideTheWindowAndTheLargestValueOfItsChannel()
    {
        var set = new AnomalyDatasetGenerator(11).Generate(3_000);
        int checkedSpikes = 0;
        for (int i = 0; i < set.Spikes.Length; i++)
        {
            var spike = set.Spikes[i];
            if (!spike.IsAnomaly)
            {
                continue;
            }

            Assert.InRange(spike.Step, 1, Length - 2);
            var channel = set.Windows.Window(i).Slice(spike.Channel * Length, Length);
            float peak = Math.Abs(channel[spike.Step]);

            // A base of at least 1 sd times ~N(3, 0.75) stands out of a z-scored walk in most windows; a factor
            // below 2 (about 9 % of draws) can leave the spike inside the walk's own range.
            if (peak >= MaxAbs(channel))
            {
                checkedSpikes++;
            }
        }

        int anomalies = set.Spikes.Count(s => s.IsAnomaly);
        Assert.True(checkedSpikes >= anomalies * 0.88, $"{checkedSpikes} of {anomalies} spikes are their channel's extreme value");
    }

    [Fact]
    public void Generate_EveryWindow_IsZScoredPerChannel()
    {
        var set = new AnomalyDatasetGenerator(5).Generate(400);
        for (int i = 0; i < set.Windows.Count; i++)
        {
            var window = set.Windows.Window(i);
            for (int c = 0; c < Channels; c++)
            {
                var channel = window.Slice(c * Length, Length).ToArray();
                double mean = channel.Average();
                double sd = Math.Sqrt(channel.Select(v => (v - mean) * (v - mean)).Average());
                Assert.InRange(mean, -1e-4, 1e-4);
                Assert.InRange(sd, 1 - 1e-3, 1 + 1e-3);
            }
        }
    }

    [Fact]
    public void TrainingAndTest_OfOneSeed_AreDifferentDrawsOfTheRightSize()
    {
        var test = AnomalyDatasetGenerator.Test(1);
        Assert.Equal(AnomalyDatasetGenerator.TestCount, test.Windows.Count);
        var firstTraining = new AnomalyDatasetGenerator(1).Generate(10);
        Assert.NotEqual(firstTraining.Windows.Window(0).ToArray(), test.Windows.Window(0).ToArray());
    }

    private static float MaxAbs(ReadOnlySpan<float> values)
    {
        float max = 0;
        foreach (float v in values)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        return max;
    }
}
