using System.Globalization;
using TSViz.Explain.Data;
using TSViz.Explain.Onnx;
using TSViz.Explain.Training;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Training;

namespace TSViz.Monitor.Analysis;

/// <summary>Windows with targets for analysing a model: its reference workload's data, or a JSON-lines file.</summary>
internal sealed record AnalysisData(WindowSet Influence, WindowSet Evaluation, WindowSet? Train, WindowSet? Validation, TrainingOptions? Recipe, string Description);

internal static class ReferenceData
{
    /// <summary>
    /// The data of the workload the model declares (tsviz.workload and tsviz.training_seed): training windows for
    /// influence and fine-tuning, test windows for evaluation. With <paramref name="input"/>, its windows (which must
    /// carry "target") serve for both.
    /// </summary>
    public static async Task<AnalysisData> LoadAsync(ModelMetadata metadata, string? input, int influenceWindows, string trafficData, CancellationToken cancellationToken)
    {
        if (input is not null)
        {
            var set = await ReadAsync(input, metadata, requireTargets: true, cancellationToken).ConfigureAwait(false);
            return new AnalysisData(set, set, null, null, null, $"{set.Count} windows from {input}");
        }

        if (!metadata.Extra.TryGetValue("tsviz.workload", out var name) || !Enum.TryParse<WorkloadKind>(name, ignoreCase: true, out var kind))
        {
            throw new ArgumentException(
                $"Model '{metadata.Name}' declares no reference workload (tsviz.workload); pass --input with JSON lines that carry \"target\".");
        }

        int seed = metadata.Extra.TryGetValue("tsviz.training_seed", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : 1;
        var workload = ReferenceWorkload.Get(kind);
        var (train, validation, test, _) = workload.LoadData(seed, trafficData);
        var influence = influenceWindows > 0 && influenceWindows < train.Count ? train.Slice(0, influenceWindows) : train;
        return new AnalysisData(influence, test, train, validation, workload.Recipe with { Seed = seed },
            $"{kind.ToString().ToLowerInvariant()} reference data, seed {seed}: dataset influence over {influence.Count} training windows, evaluation on {test.Count} test windows");
    }

    /// <summary>Reads windows (and targets) from JSON lines; a bad line stops with its number and reason.</summary>
    public static async Task<WindowSet> ReadAsync(string path, ModelMetadata metadata, bool requireTargets, CancellationToken cancellationToken)
        => (await ReadWithSpikesAsync(path, metadata, requireTargets, cancellationToken).ConfigureAwait(false)).Windows;

    /// <summary>
    /// As <see cref="ReadAsync"/>, with the planted spikes when every line says (<c>"spike"</c>: a cell or null); null
    /// when no line does. Some lines saying and others not is an error naming the first that does not.
    /// </summary>
    public static async Task<(WindowSet Windows, PlantedSpike[]? Spikes)> ReadWithSpikesAsync(string path, ModelMetadata metadata, bool requireTargets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        int channels = metadata.Channels.Count;
        int length = metadata.WindowLength;
        var values = new List<float>();
        var targets = new List<float>();
        var spikes = new List<PlantedSpike>();
        int? firstWithout = null;
        using var reader = path == "-" ? null : File.OpenText(path);
        await foreach (var line in WindowLines.ReadAsync(reader ?? Console.In, channels, length, cancellationToken).ConfigureAwait(false))
        {
            if (line.Values is null)
            {
                throw new InvalidDataException($"{path} line {line.LineNumber}: {line.Error}");
            }

            if (requireTargets && line.Target is null)
            {
                throw new InvalidDataException($"{path} line {line.LineNumber}: \"target\" is missing; evaluating a model needs the true output of every window.");
            }

            values.AddRange(line.Values);
            targets.Add(line.Target ?? 0);
            if (line.Spike is { } spike)
            {
                spikes.Add(spike);
            }
            else
            {
                firstWithout ??= line.LineNumber;
            }
        }

        if (targets.Count == 0)
        {
            throw new InvalidDataException($"{path} holds no window.");
        }

        if (spikes.Count > 0 && firstWithout is int missing)
        {
            throw new InvalidDataException($"{path} line {missing}: \"spike\" is missing; other lines give it, so every line must (null for a window without a spike).");
        }

        return (new WindowSet([.. values], [.. targets], channels, length), spikes.Count > 0 ? [.. spikes] : null);
    }
}
