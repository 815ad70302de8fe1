using System.Globalization;
using TSViz.Explain.Data;
using TSViz.Explain.Models;
using TSViz.Explain.Onnx;
using TSViz.Explain.Training;

namespace TSViz.Monitor.Training;

/// <summary>The two reference workloads the repository ships models for.</summary>
internal enum WorkloadKind
{
    Anomaly,
    Traffic,
}

/// <summary>
/// A reference workload: its data (deterministic from a seed, or the shipped traffic series), its network, its
/// training recipe and the metadata its exported model declares.
/// </summary>
internal sealed record ReferenceWorkload(
    WorkloadKind Kind,
    string ModelName,
    ConvNetSpec Spec,
    IReadOnlyList<string> Channels,
    string Preprocessing,
    TrainingOptions Recipe)
{
    public const string DefaultTrafficData = "data/internet-traffic-b5m.csv";

    public static ReferenceWorkload Anomaly { get; } = new(
        WorkloadKind.Anomaly,
        "anomaly-cnn",
        ConvNetSpec.AnomalyReference,
        AnomalyDatasetGenerator.ChannelNames,
        WindowPreprocessing.ZScorePerChannel,
        new TrainingOptions { MaxEpochs = 30, BatchSize = 64, LearningRate = 0.003, AmsGrad = true });

    public static ReferenceWorkload Traffic { get; } = new(
        WorkloadKind.Traffic,
        "traffic-cnn",
        ConvNetSpec.TrafficReference,
        TrafficDatasetBuilder.ChannelNames,
        WindowPreprocessing.None,
        new TrainingOptions { MaxEpochs = 40, BatchSize = 16, LearningRate = 0.001, AmsGrad = false });

    public static ReferenceWorkload Get(WorkloadKind kind) => kind == WorkloadKind.Anomaly ? Anomaly : Traffic;

    /// <summary>Training, validation and test windows for a seed (the traffic split does not depend on it).</summary>
    public (WindowSet Train, WindowSet Validation, WindowSet Test, IReadOnlyDictionary<string, string> DataFacts) LoadData(int seed, string trafficData)
    {
        if (Kind == WorkloadKind.Anomaly)
        {
            var all = AnomalyDatasetGenerator.Training(seed).Windows;
            int fit = all.Count - AnomalyDatasetGenerator.ValidationCount;
            var test = AnomalyDatasetGenerator.Test(seed).Windows;
            return (all.Slice(0, fit), all.Slice(fit, AnomalyDatasetGenerator.ValidationCount), test, new Dictionary<string, string>());
        }

        if (!File.Exists(trafficData))
        {
            throw new FileNotFoundException($"The traffic series '{trafficData}' does not exist; pass --data with the path of internet-traffic-b5m.csv.", trafficData);
        }

        using var reader = File.OpenText(trafficData);
        var data = TrafficDatasetBuilder.Build(TrafficDatasetBuilder.ReadSeries(reader));
        var facts = new Dictionary<string, string>
        {
            ["tsviz.series_mean"] = data.Mean.ToString("R", CultureInfo.InvariantCulture),
            ["tsviz.series_std"] = data.Std.ToString("R", CultureInfo.InvariantCulture),
            ["tsviz.series_input"] = "channel 0: (x - series_mean) / series_std; channel 1: its first difference; target: the next channel-0 value",
        };
        return (data.Train, data.Validation, data.Test, facts);
    }

    public string DefaultCheckpoint => Path.Combine("artifacts", $"{ModelName}.ckpt");

    public string DefaultModelPath => Path.Combine("models", $"{ModelName}.onnx");
}
