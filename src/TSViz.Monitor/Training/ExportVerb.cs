using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using TSViz.Explain.Evaluation;
using TSViz.Explain.Models;
using TSViz.Explain.Onnx;
using TSViz.Explain.Runtime;
using TSViz.Plugins.Scoring;

using TSViz.Monitor.Cli;

namespace TSViz.Monitor.Training;

/// <summary>
/// `export`: writes a trained checkpoint as an ONNX file with the metadata the monitor needs, then measures that
/// very file in ONNX Runtime on the test set and writes its model card beside it.
/// </summary>
internal static class ExportVerb
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var workload = WorkloadOptions.Workload();
        var seed = WorkloadOptions.Seed();
        var data = WorkloadOptions.TrafficData();
        var checkpoint = WorkloadOptions.Checkpoint();
        var model = new Option<string?>("--output") { Description = "ONNX file to write (default: models/<model>.onnx); the card goes beside it." };
        var version = new Option<string>("--model-version") { Description = "Version the model declares.", DefaultValueFactory = _ => "1.0.0" };
        var threshold = new Option<double>("--threshold") { Description = "Decision threshold of a probability model.", DefaultValueFactory = _ => 0.5 };
        var command = new Command("export", "Export a checkpoint to ONNX with metadata, measure it in ONNX Runtime and write its model card.")
        {
            workload, seed, data, checkpoint, model, version, threshold,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var kind = parse.GetValue(workload);
            var reference = ReferenceWorkload.Get(kind);
            int seedValue = parse.GetValue(seed);
            string checkpointPath = parse.GetValue(checkpoint) ?? reference.DefaultCheckpoint;
            string modelPath = parse.GetValue(model) ?? reference.DefaultModelPath;
            return VerbErrors.Run(error, () =>
            {
                if (!File.Exists(checkpointPath))
                {
                    throw new FileNotFoundException(
                        $"Checkpoint '{checkpointPath}' does not exist; create it with `train --workload {kind.ToString().ToLowerInvariant()} --seed {seedValue}` or pass --checkpoint.",
                        checkpointPath);
                }

                TorchRuntime.EnsureInitialized();
                var (_, _, test, facts) = reference.LoadData(seedValue, parse.GetValue(data)!);
                using var network = new ConvNet1d(reference.Spec);
                network.load(checkpointPath);
                network.eval();

                bool probability = reference.Spec.Output == OutputKind.Probability;
                var extra = new Dictionary<string, string>(facts)
                {
                    ["tsviz.training_seed"] = seedValue.ToString(CultureInfo.InvariantCulture),
                    ["tsviz.workload"] = kind.ToString().ToLowerInvariant(),
                };
                var metadata = new ModelMetadata(
                    reference.ModelName, parse.GetValue(version)!, reference.Channels, reference.Spec.WindowLength, reference.Preprocessing,
                    reference.Spec.Output, probability ? parse.GetValue(threshold) : null, extra);
                OnnxExporter.Save(OnnxExporter.Export(network, metadata), modelPath);

                using var scorer = OnnxRuntimeScorer.Open(modelPath);
                var scores = new float[test.Count];
                scorer.Score(test.Values, test.Count, scores);
                var card = BuildCard(reference, kind, seedValue, modelPath, checkpointPath, metadata, test.Targets, scores);
                card.Save(modelPath);
                output.WriteLine($"Wrote {modelPath}, {ModelCard.JsonPathFor(modelPath)} and {ModelCard.MarkdownPathFor(modelPath)}.");
                if (card.Classification is { } m)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"Test ({test.Count} windows, threshold {m.Threshold}): accuracy {m.Accuracy:P2}, precision {m.Precision:P2}, recall {m.Recall:P2}, ROC AUC {m.RocAuc:F4}; TP {m.Confusion.TruePositives} FP {m.Confusion.FalsePositives} TN {m.Confusion.TrueNegatives} FN {m.Confusion.FalseNegatives}"));
                }

                if (card.Regression is { } r)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"Test ({r.Count} windows, standardised units): MSE {r.Mse:F6}, MAE {r.Mae:F6} (paper: MSE 0.001608, MAE 0.030010)"));
                }

                cancellationToken.ThrowIfCancellationRequested();
                return 0;
            });
        });
        return command;
    }

    private static ModelCard BuildCard(
        ReferenceWorkload reference, WorkloadKind kind, int seed, string modelPath, string checkpointPath,
        ModelMetadata metadata, float[] targets, float[] scores)
    {
        string workload = kind.ToString().ToLowerInvariant();
        bool anomaly = kind == WorkloadKind.Anomaly;
        var training = TrainingRecord.TryLoad(TrainingRecord.PathFor(checkpointPath));
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(modelPath)));
        string epochs = training is null ? string.Empty : $" --epochs {training.Options.MaxEpochs}";
        return new ModelCard(
            metadata.Name,
            metadata.Version,
            Path.GetFileName(modelPath),
            sha,
            ModelCard.Describe(metadata, reference.Spec),
            metadata.Channels,
            metadata.WindowLength,
            metadata.Preprocessing,
            anomaly ? "probability of an anomaly (graph outputs: score, logit)" : "next standardised traffic value (graph output: score)",
            metadata.DecisionThreshold,
            anomaly
                ? $"Synthetic reference windows (REFERENCE.md section 2), seed {seed}: 45,000 training and 5,000 validation windows; random walks z-scored per channel, point anomalies in temperature or torque only; each window z-scored again after its spike, as the monitor preprocesses live windows."
                : "UK academic backbone internet traffic, 5-minute samples (data/internet-traffic-b5m.csv); scaler fitted on the first 14,000 points; windows with targets in them train (the last 2,000 validate).",
            anomaly
                ? $"10,000 windows drawn from seed {seed} + {Explain.Data.AnomalyDatasetGenerator.TestSeedOffset} (about 1/6 anomalous)"
                : "the 4,000 windows whose targets are points 14,000-17,999",
            anomaly ? BinaryClassificationMetrics.Compute(scores, targets, metadata.DecisionThreshold!.Value) : null,
            anomaly ? null : RegressionMetrics.Compute(scores, targets),
            anomaly ? null : new PaperFigures(0.001608, 0.030010, "TSViz, IEEE Access 2019, Table 1"),
            training,
            [
                $"dotnet run --project src/TSViz.Monitor -c Release -- train --workload {workload} --seed {seed}{epochs}",
                $"dotnet run --project src/TSViz.Monitor -c Release -- export --workload {workload} --seed {seed} --model-version {metadata.Version}"
                    + (anomaly ? string.Create(CultureInfo.InvariantCulture, $" --threshold {metadata.DecisionThreshold}") : string.Empty),
            ],
            anomaly
                ?
                [
                    "Pressure never carries an anomaly in the training data, so the model is expected to ignore it.",
                    "The sigmoid saturates for confident windows (TSViz Proposition 1): explain through the 'logit' output.",
                ]
                :
                [
                    "The paper does not state its scaling; its figures may be in other units than these standardised ones.",
                    "Feed windows as tsviz.series_input describes (scaler in tsviz.series_mean / tsviz.series_std).",
                ]);
    }
}
