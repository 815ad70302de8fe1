using System.Text.Json;
using System.Text.Json.Serialization;
using TSViz.Explain.Training;

namespace TSViz.Monitor.Training;

/// <summary>What a `train` run did, saved beside its checkpoint so `export` can put it on the model card.</summary>
internal sealed record TrainingRecord(
    string Workload,
    int Seed,
    TrainingOptions Options,
    int EpochsRun,
    int BestEpoch,
    double BestValidationLoss,
    double ElapsedSeconds,
    int Threads,
    int ProcessorCount,
    string Command,
    IReadOnlyList<EpochReport> Epochs)
{
    public static string PathFor(string checkpoint) => Path.ChangeExtension(checkpoint, ".training.json");

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, MonitorJsonContext.Default.TrainingRecord));

    public static TrainingRecord? TryLoad(string path)
        => File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), MonitorJsonContext.Default.TrainingRecord) : null;
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(TrainingRecord))]
[JsonSerializable(typeof(ModelCard))]
internal sealed partial class MonitorJsonContext : JsonSerializerContext;
