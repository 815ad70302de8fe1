using System.CommandLine;
using System.Globalization;
using TorchSharp;
using TSViz.Explain.Models;
using TSViz.Explain.Runtime;
using TSViz.Explain.Training;

using TSViz.Monitor.Cli;

namespace TSViz.Monitor.Training;

/// <summary>`train`: trains a reference model from a seed and saves a TorchSharp checkpoint.</summary>
internal static class TrainVerb
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var workload = WorkloadOptions.Workload();
        var seed = WorkloadOptions.Seed();
        var data = WorkloadOptions.TrafficData();
        var checkpoint = WorkloadOptions.Checkpoint();
        var epochs = new Option<int?>("--epochs") { Description = "Maximum epochs (default: the workload's recipe; early stopping may end sooner)." };
        var threads = new Option<int?>("--threads") { Description = "libtorch intra-op threads (default: one per core)." };
        var command = new Command("train", "Train a reference model (anomaly or traffic) from a seed; writes a checkpoint for `export`.")
        {
            workload, seed, data, checkpoint, epochs, threads,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var kind = parse.GetValue(workload);
            var reference = ReferenceWorkload.Get(kind);
            int seedValue = parse.GetValue(seed);
            string checkpointPath = parse.GetValue(checkpoint) ?? reference.DefaultCheckpoint;
            return VerbErrors.Run(error, () =>
            {
                TorchRuntime.EnsureInitialized(parse.GetValue(threads));
                var (train, validation, _, _) = reference.LoadData(seedValue, parse.GetValue(data)!);
                var options = reference.Recipe with
                {
                    Seed = seedValue,
                    MaxEpochs = parse.GetValue(epochs) ?? reference.Recipe.MaxEpochs,
                    Threads = parse.GetValue(threads),
                };
                torch.random.manual_seed(seedValue);
                using var model = new ConvNet1d(reference.Spec);
                output.WriteLine($"Training {reference.ModelName} (seed {seedValue}): {train.Count} training and {validation.Count} validation windows, up to {options.MaxEpochs} epochs.");
                var result = Trainer.Train(model, train, validation, options, e => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {e.Epoch,3}  train loss {e.TrainLoss:F6}  validation loss {e.ValidationLoss:F6}  lr {e.LearningRate:G4}  {e.Elapsed.TotalSeconds:F1} s{(e.Improved ? "  *" : string.Empty)}")), cancellationToken: cancellationToken);

                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!);
                model.save(checkpointPath);
                var record = new TrainingRecord(
                    reference.ModelName, seedValue, options, result.Epochs.Count, result.BestEpoch, result.BestValidationLoss,
                    result.Elapsed.TotalSeconds, torch.get_num_threads(), Environment.ProcessorCount,
                    $"train --workload {kind.ToString().ToLowerInvariant()} --seed {seedValue} --epochs {options.MaxEpochs}", result.Epochs);
                record.Save(TrainingRecord.PathFor(checkpointPath));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Kept epoch {result.BestEpoch} (validation loss {result.BestValidationLoss:F6}); {result.Elapsed.TotalSeconds:F0} s. Checkpoint: {checkpointPath}"));
                output.WriteLine($"Next: export --workload {kind.ToString().ToLowerInvariant()} --seed {seedValue} --checkpoint {checkpointPath}");
                return 0;
            });
        });
        return command;
    }
}
