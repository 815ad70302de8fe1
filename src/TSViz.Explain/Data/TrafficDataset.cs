using System.Globalization;

namespace TSViz.Explain.Data;

/// <summary>The forecaster's windows: training, validation and test, with the scaler fitted on training.</summary>
/// <param name="Train">The training windows (inputs and next-value targets, standardised).</param>
/// <param name="Validation">The last training windows, held out for early stopping.</param>
/// <param name="Test">The windows whose targets follow the training points.</param>
/// <param name="Mean">The scaler's mean, fitted on the training points.</param>
/// <param name="Std">The scaler's standard deviation, fitted on the training points.</param>
public sealed record TrafficDataset(WindowSet Train, WindowSet Validation, WindowSet Test, double Mean, double Std);

/// <summary>
/// The paper's regression workload (III-A): the UK academic backbone traffic series (5-minute samples),
/// standardised with a scaler fitted on the first 14,000 points; two input channels, the standardised series
/// and its first difference, 50 steps; the target is the next standardised value. Windows whose target lies
/// in the first 14,000 points train (the last 2,000 of them validate); the next 4,000 targets test.
/// </summary>
public static class TrafficDatasetBuilder
{
    /// <summary>The two input channels: the standardised series and its first difference.</summary>
    public static readonly IReadOnlyList<string> ChannelNames = ["traffic_std", "traffic_std_diff"];
    /// <summary>Steps per window.</summary>
    public const int WindowLength = 50;
    /// <summary>Points of the series the scaler is fitted on and whose targets train.</summary>
    public const int TrainPoints = 14_000;
    /// <summary>The last training windows, held out for validation.</summary>
    public const int ValidationWindows = 2_000;
    /// <summary>Points after the training ones whose targets test.</summary>
    public const int TestPoints = 4_000;

    /// <summary>Reads the second column of the CSV (header row, then "time",value rows).</summary>
    public static double[] ReadSeries(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var values = new List<double>();
        string? header = reader.ReadLine() ?? throw new InvalidDataException("The traffic CSV is empty.");
        int line = 1;
        while (reader.ReadLine() is { } row)
        {
            line++;
            if (row.Length == 0)
            {
                continue;
            }

            int comma = row.LastIndexOf(',');
            if (comma < 0 || !double.TryParse(row.AsSpan(comma + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                throw new InvalidDataException($"Line {line} of the traffic CSV is not \"time\",value: '{row}' (header was '{header}').");
            }

            values.Add(value);
        }

        return [.. values];
    }

    /// <summary>Builds the split; needs at least 14,000 + 4,000 points.</summary>
    public static TrafficDataset Build(IReadOnlyList<double> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count < TrainPoints + TestPoints)
        {
            throw new ArgumentException($"The series has {series.Count} points; the split needs {TrainPoints + TestPoints}.", nameof(series));
        }

        double mean = 0;
        for (int i = 0; i < TrainPoints; i++)
        {
            mean += series[i];
        }

        mean /= TrainPoints;
        double variance = 0;
        for (int i = 0; i < TrainPoints; i++)
        {
            variance += (series[i] - mean) * (series[i] - mean);
        }

        double std = Math.Sqrt(variance / TrainPoints);
        var scaled = new float[TrainPoints + TestPoints];
        for (int i = 0; i < scaled.Length; i++)
        {
            scaled[i] = (float)((series[i] - mean) / std);
        }

        // Windows start at 1 so that every first difference inside a window is a real one.
        int firstTrainStart = 1;
        int trainEnd = TrainPoints - WindowLength; // exclusive start: the target index stays below TrainPoints
        var trainAll = Windows(scaled, firstTrainStart, trainEnd);
        int fitCount = trainAll.Count - ValidationWindows;
        var test = Windows(scaled, TrainPoints - WindowLength, TrainPoints + TestPoints - WindowLength);
        return new TrafficDataset(trainAll.Slice(0, fitCount), trainAll.Slice(fitCount, ValidationWindows), test, mean, std);
    }

    /// <summary>
    /// Turns a window of standardised values into the model's two channels (the values and their first
    /// difference). <paramref name="previous"/> is the standardised value before the window.
    /// </summary>
    public static void ToModelInput(ReadOnlySpan<float> standardised, float previous, Span<float> destination)
    {
        int length = standardised.Length;
        ArgumentOutOfRangeException.ThrowIfNotEqual(destination.Length, 2 * length, nameof(destination));
        standardised.CopyTo(destination);
        float before = previous;
        for (int t = 0; t < length; t++)
        {
            destination[length + t] = standardised[t] - before;
            before = standardised[t];
        }
    }

    private static WindowSet Windows(float[] scaled, int firstStart, int endStart)
    {
        int count = endStart - firstStart;
        int size = 2 * WindowLength;
        var values = new float[count * size];
        var targets = new float[count];
        for (int w = 0; w < count; w++)
        {
            int start = firstStart + w;
            ToModelInput(scaled.AsSpan(start, WindowLength), scaled[start - 1], values.AsSpan(w * size, size));
            targets[w] = scaled[start + WindowLength];
        }

        return new WindowSet(values, targets, 2, WindowLength);
    }
}
