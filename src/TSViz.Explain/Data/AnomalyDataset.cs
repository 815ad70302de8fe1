namespace TSViz.Explain.Data;

/// <summary>Where a point anomaly was planted (for checks of saliency against the truth).</summary>
/// <param name="Channel">Channel index of the spike, or -1 when the window is normal.</param>
/// <param name="Step">Time step of the spike, or -1 when the window is normal.</param>
public readonly record struct PlantedSpike(int Channel, int Step)
{
    /// <summary>A normal window: no spike.</summary>
    public static readonly PlantedSpike None = new(-1, -1);

    /// <summary>Whether a spike was planted (the window's label is 1).</summary>
    public bool IsAnomaly => Channel >= 0;
}

/// <summary>The reference anomaly windows with the truth about each spike.</summary>
/// <param name="Windows">The windows and their labels (1: anomalous).</param>
/// <param name="Spikes">Per window, where its spike was planted, or <see cref="PlantedSpike.None"/>.</param>
public sealed record AnomalyDataset(WindowSet Windows, PlantedSpike[] Spikes);

/// <summary>
/// The reference anomaly workload of the TSViz paper's public code (REFERENCE.md section 2): windows of
/// 50 steps x 3 channels (pressure, temperature, torque), each channel a z-scored random walk; with
/// probability 0.25 a point anomaly in one channel, where a spike in pressure is never applied (so about
/// 1/6 of windows are anomalous and the model must learn to ignore pressure).
/// </summary>
public sealed class AnomalyDatasetGenerator
{
    /// <summary>The channels in model order; pressure never carries an anomaly.</summary>
    public static readonly IReadOnlyList<string> ChannelNames = ["pressure", "temperature", "torque"];
    /// <summary>Steps per window.</summary>
    public const int WindowLength = 50;
    /// <summary>Chance that a window is drawn for a spike (a pressure spike is then dropped: about 1/6 end up anomalous).</summary>
    public const double AnomalyProbability = 0.25;
    /// <summary>Windows of the training set of the reference, the validation windows included.</summary>
    public const int TrainCount = 50_000;
    /// <summary>The last windows of the training set, held out for validation.</summary>
    public const int ValidationCount = 5_000;
    /// <summary>Windows of the reference test set.</summary>
    public const int TestCount = 10_000;

    /// <summary>The test set is drawn from its own stream so that changing the training size leaves it alone.</summary>
    public const int TestSeedOffset = 1_000_003;

    private const int PressureChannel = 0;
    private const double MinSpikeBase = 1.0;
    private const int MaxIndexRedraws = 10;

    private readonly GaussianRandom random;

    /// <summary>A generator whose draws are fixed by <paramref name="seed"/>.</summary>
    public AnomalyDatasetGenerator(int seed) => random = new GaussianRandom(seed);

    /// <summary>The training windows (the last <see cref="ValidationCount"/> for validation) of a seed.</summary>
    public static AnomalyDataset Training(int seed) => new AnomalyDatasetGenerator(seed).Generate(TrainCount);

    /// <summary>The 10,000 test windows of a seed.</summary>
    public static AnomalyDataset Test(int seed) => new AnomalyDatasetGenerator(seed + TestSeedOffset).Generate(TestCount);

    /// <summary>Draws <paramref name="count"/> windows.</summary>
    public AnomalyDataset Generate(int count)
    {
        int channels = ChannelNames.Count;
        int size = channels * WindowLength;
        var values = new float[count * size];
        var targets = new float[count];
        var spikes = new PlantedSpike[count];
        for (int i = 0; i < count; i++)
        {
            var window = values.AsSpan(i * size, size);
            spikes[i] = DrawWindow(window);
            targets[i] = spikes[i].IsAnomaly ? 1f : 0f;
        }

        return new AnomalyDataset(new WindowSet(values, targets, channels, WindowLength), spikes);
    }

    /// <summary>Draws one window into <paramref name="window"/> and returns where its spike is.</summary>
    public PlantedSpike DrawWindow(Span<float> window)
    {
        int channels = ChannelNames.Count;
        bool anomalous = random.NextDouble() < AnomalyProbability;
        int channel = anomalous ? random.Next(0, channels) : -1;
        while (true)
        {
            DrawRandomWalks(window, channels);
            if (!anomalous || channel == PressureChannel)
            {
                // A spike drawn for pressure is never applied: pressure never carries an anomaly.
                return PlantedSpike.None;
            }

            var series = window.Slice(channel * WindowLength, WindowLength);
            for (int attempt = 0; attempt <= MaxIndexRedraws; attempt++)
            {
                int step = random.Next(1, WindowLength - 1); // 1..48: never the first or last step
                if (series[step] < MinSpikeBase)
                {
                    continue;
                }

                double factor = Math.Sign(random.Normal()) * random.Normal(3.0, 0.75);
                series[step] = (float)(series[step] * factor);

                // Train on what the monitor feeds the model: the live window is z-scored with its spike in it.
                WindowPreprocessing.ZScoreInPlace(window, channels, WindowLength);
                return new PlantedSpike(channel, step);
            }

            // No step of this walk reached the spike base after the redraws: draw a new window.
        }
    }

    private void DrawRandomWalks(Span<float> window, int channels)
    {
        for (int c = 0; c < channels; c++)
        {
            double stepSd = 0.05 + random.Normal(0, 0.05);
            var series = window.Slice(c * WindowLength, WindowLength);
            double value = random.Normal(0, stepSd);
            series[0] = (float)value;
            for (int t = 1; t < WindowLength; t++)
            {
                value += random.Normal(0, stepSd);
                series[t] = (float)value;
            }
        }

        WindowPreprocessing.ZScoreInPlace(window, channels, WindowLength);
    }
}
