using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TSViz.Explain;
using TSViz.Explain.Clustering;
using TSViz.Explain.Onnx;
using TSViz.Explain.Pruning;
using TSViz.Monitor.Cli;
using TSViz.Monitor.Training;

namespace TSViz.Monitor.Analysis;

/// <summary>
/// `prune`: influence-based pruning analyses. Exactly one of --faithfulness (Table 1), --candidates (dataset
/// influence, dead filters, ranked candidates), --progressive N (Fig. 10 curve, CSV and SVG), --damage (every filter
/// zeroed alone, Spearman of each criterion with the damage per layer) or --remove layer:index... (a genuinely smaller
/// ONNX file). --criterion chooses what ranks the filters (influence, Eq. 16; or contribution, the default).
/// </summary>
internal static class PruneVerb
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "The ONNX model.", DefaultValueFactory = _ => "models/anomaly-cnn.onnx" };
        var destination = new Option<string>("--output") { Description = "Where to write the result.", Required = true };
        var faithfulness = new Option<bool>("--faithfulness") { Description = "Zero the most and the least influential filter of each layer; write the table (JSON)." };
        var candidates = new Option<bool>("--candidates") { Description = "Dataset influence and contribution (min/mean/max), dead filters and the ranked pruning candidates (JSON)." };
        var progressive = new Option<int?>("--progressive") { Description = "Remove this many filters one at a time, lowest under --criterion first; write the curve (CSV, with an SVG beside it)." };
        var fineTune = new Option<int>("--fine-tune-epochs") { Description = "With --progressive: fine-tune this many epochs after each removal.", DefaultValueFactory = _ => 0 };
        var damage = new Option<bool>("--damage") { Description = "Zero every filter alone; per layer the Spearman correlation of influence and of contribution with the damage (JSON, every filter's row)." };
        var criterion = new Option<string>("--criterion")
        {
            Description = "What ranks filters for --faithfulness, --candidates and --progressive: influence (Eq. 16) or contribution (|sum_t a_j(t) dy/da_j(t)|).",
            DefaultValueFactory = _ => PruningCriteria.Default.Name(),
        };
        var evaluationWindows = new Option<int>("--evaluation-windows") { Description = "Evaluate on the first this many evaluation windows (0: all).", DefaultValueFactory = _ => 0 };
        var remove = new Option<string[]>("--remove") { Description = "Filters to cut out, as layer:index (e.g. conv2:3 conv3:17); writes the smaller ONNX file.", AllowMultipleArgumentsPerToken = true };
        var input = new Option<string?>("--input") { Description = "Windows with \"target\" as JSON lines; default: the model's reference workload." };
        var influenceWindows = new Option<int>("--influence-windows") { Description = "Training windows the dataset influence averages over (0: all).", DefaultValueFactory = _ => 10_000 };
        var data = new Option<string>("--data") { Description = "The traffic CSV, for the traffic model's reference data.", DefaultValueFactory = _ => ReferenceWorkload.DefaultTrafficData };
        var command = new Command("prune", "Influence-based pruning: faithfulness table, candidates, progressive pruning curve, per-filter damage against the criteria, or a pruned ONNX export.")
        {
            model, destination, faithfulness, candidates, progressive, damage, criterion, evaluationWindows, fineTune, remove, input, influenceWindows, data,
        };
        command.SetAction((parse, cancellationToken) => VerbErrors.RunAsync(error, async () =>
        {
            string modelPath = parse.GetValue(model)!;
            string outputPath = parse.GetValue(destination)!;
            var toRemove = parse.GetValue(remove) ?? [];
            int modes = (parse.GetValue(faithfulness) ? 1 : 0) + (parse.GetValue(candidates) ? 1 : 0) + (parse.GetValue(progressive) is null ? 0 : 1)
                + (parse.GetValue(damage) ? 1 : 0) + (toRemove.Length > 0 ? 1 : 0);
            if (modes != 1)
            {
                throw new ArgumentException("Give exactly one of --faithfulness, --candidates, --progressive N, --damage or --remove layer:index ....");
            }

            var ranking = PruningCriteria.TryParse(parse.GetValue(criterion), out var parsed) ? parsed
                : throw new ArgumentException($"--criterion '{parse.GetValue(criterion)}' is not a pruning criterion; use one of {string.Join(", ", PruningCriteria.Names)}.");
            int evaluationCount = parse.GetValue(evaluationWindows);
            if (evaluationCount < 0)
            {
                throw new ArgumentException($"--evaluation-windows must be 0 (all) or positive, got {evaluationCount}.");
            }

            var file = OnnxModelFile.Load(modelPath);
            using var explainer = Explainer.FromFile(file);
            if (toRemove.Length > 0)
            {
                await ExportPrunedAsync(file, explainer, toRemove.Select(FilterRef.Parse).ToList(), outputPath, output).ConfigureAwait(false);
                return 0;
            }

            var analysis = await ReferenceData.LoadAsync(file.Metadata, parse.GetValue(input), parse.GetValue(influenceWindows), parse.GetValue(data)!, cancellationToken).ConfigureAwait(false);
            if (evaluationCount > 0 && evaluationCount < analysis.Evaluation.Count)
            {
                analysis = analysis with
                {
                    Evaluation = analysis.Evaluation.Slice(0, evaluationCount),
                    Description = string.Create(CultureInfo.InvariantCulture, $"{analysis.Description}; evaluation on the first {evaluationCount} of them"),
                };
            }

            await output.WriteLineAsync($"Data: {analysis.Description}.").ConfigureAwait(false);
            var influence = DatasetInfluence.Compute(explainer, analysis.Influence.Values, analysis.Influence.Count);
            if (parse.GetValue(faithfulness))
            {
                var rows = Faithfulness.Run(file, influence, analysis.Evaluation, ranking);
                await File.WriteAllTextAsync(outputPath, JsonSerializer.Serialize(new FaithfulnessJson(file.Metadata.Name, file.Metadata.Version, analysis.Description, rows, ranking.Name()), AnalysisJsonContext.Default.FaithfulnessJson), cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"Criterion: {ranking.Name()}.").ConfigureAwait(false);
                await output.WriteAsync(FaithfulnessTable(rows, ranking)).ConfigureAwait(false);
            }
            else if (parse.GetValue(damage))
            {
                var report = FilterDamage.Measure(file, influence, analysis.Evaluation, cancellationToken: cancellationToken);
                await File.WriteAllTextAsync(outputPath, JsonSerializer.Serialize(
                    new DamageJson(file.Metadata.Name, file.Metadata.Version, analysis.Description, report.Baseline, report.Layers, report.Rows), AnalysisJsonContext.Default.DamageJson), cancellationToken).ConfigureAwait(false);
                await output.WriteAsync(DamageTable(report)).ConfigureAwait(false);
                await output.WriteLineAsync($"Wrote {outputPath}: {report.Rows.Count} filters.").ConfigureAwait(false);
            }
            else if (parse.GetValue(candidates))
            {
                int clusterWindows = Math.Min(500, analysis.Influence.Count);
                int size = analysis.Influence.Channels * analysis.Influence.Length;
                var clustering = FilterClusterer.Cluster(explainer, analysis.Influence.Values.AsSpan(0, clusterWindows * size), clusterWindows);
                var ranked = PruningCandidates.Rank(influence, clustering, ranking);
                await File.WriteAllTextAsync(outputPath, JsonSerializer.Serialize(new CandidatesJson(file.Metadata.Name, file.Metadata.Version, analysis.Description, influence, ranked, ranking.Name()), AnalysisJsonContext.Default.CandidatesJson), cancellationToken).ConfigureAwait(false);
                int dead = influence.Sum(l => l.NeverActive.Count(d => d));
                await output.WriteLineAsync($"{ranked.Count} candidates, least {Adjective(ranking)} first; {dead} filters never active; {ranked.Count(c => c.RedundantWith is not null)} share a cluster with a more influential filter.").ConfigureAwait(false);
                foreach (var c in ranked.Take(10))
                {
                    float mean = ranking == PruningCriterion.Contribution ? c.MeanContribution : c.MeanInfluence;
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"  {c.Layer}:{c.Filter}  mean {ranking.Name()} {mean:G4} ({c.ScaledBy(ranking):P1} of the layer's top){(c.NeverActive ? ", never active" : string.Empty)}{(c.RedundantWith is int r ? $", cluster of {c.Layer}:{r}" : string.Empty)}")).ConfigureAwait(false);
                }
            }
            else
            {
                int epochs = parse.GetValue(fineTune);
                // Fine-tuning starts from trained weights: a tenth of the training learning rate.
                var recipe = analysis.Recipe is { } r ? r with { LearningRate = r.LearningRate / 10 } : null;
                var curve = ProgressivePruning.Run(file, influence, analysis.Evaluation, parse.GetValue(progressive)!.Value, epochs, analysis.Train, analysis.Validation, recipe, criterion: ranking,
                    onStep: s => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"removed {s.Removed,3} ({s.Layer ?? "-"}:{s.Filter?.ToString(CultureInfo.InvariantCulture) ?? "-"}), {s.RemainingFilters} filters left: loss {s.Metrics.Primary:G5} ({s.PercentChange:+0.0;-0.0} %)")));
                await File.WriteAllTextAsync(outputPath, Csv(curve), cancellationToken).ConfigureAwait(false);
                string svg = Path.ChangeExtension(outputPath, ".svg");
                string metric = curve[0].Metrics.Loss is null ? "test MSE" : "test loss (binary cross-entropy)";
                await File.WriteAllTextAsync(svg, SvgLinePlot.Render(
                    $"{file.Metadata.Name}: progressive pruning{(epochs > 0 ? $", {epochs} fine-tuning epochs per step" : ", no fine-tuning")}",
                    $"filters removed (least {Adjective(ranking)} first)", metric, curve.Select(s => ((double)s.Removed, s.Metrics.Primary)).ToList()), cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"Wrote {outputPath} and {svg}.").ConfigureAwait(false);
            }

            return 0;
        }));
        return command;
    }

    private static async Task ExportPrunedAsync(OnnxModelFile file, Explainer explainer, IReadOnlyList<FilterRef> filters, string outputPath, TextWriter output)
    {
        var smaller = ModelSurgery.RemoveFilters(file, explainer.Layers, filters);
        OnnxExporter.Save(smaller.Model, outputPath);
        long before = new FileInfo(file.Path).Length;
        long after = new FileInfo(outputPath).Length;
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {outputPath}: {string.Join(", ", filters)} removed; {after:N0} bytes (was {before:N0}).")).ConfigureAwait(false);
    }

    /// <summary>"influential" or "contributing": how a criterion's least and most read.</summary>
    private static string Adjective(PruningCriterion criterion) => criterion == PruningCriterion.Contribution ? "contributing" : "influential";

    private static string DamageTable(FilterDamageReport report)
    {
        var c = CultureInfo.InvariantCulture;
        var table = new StringBuilder(string.Create(c, $"Unpruned: {(report.Baseline.Loss is null ? "MSE" : "loss")} {report.Baseline.Primary:G6}. Damage: change of it with one filter zeroed.\n"));
        table.Append("| Layer | Filters | Spearman (influence) | Spearman (contribution) | Least / most influential | Least / most contributing |\n|---|---|---|---|---|---|\n");
        foreach (var l in report.Layers)
        {
            table.Append(c, $"| {l.Layer} | {l.Filters} | {l.SpearmanInfluence:F2} | {l.SpearmanContribution:F2} | {Extremes(l.ByInfluence)} | {Extremes(l.ByContribution)} |\n");
        }

        return table.ToString();

        static string Extremes(CriterionExtremes e) => $"#{e.Least} {Signed(e.LeastPercentChange)} % / #{e.Most} {Signed(e.MostPercentChange)} %";

        // Rounded first: a tiny negative change would otherwise print as "-+0.0".
        static string Signed(double percent)
        {
            double rounded = Math.Round(percent, 1);
            return rounded == 0 ? "0.0" : rounded.ToString("+0.0;-0.0", CultureInfo.InvariantCulture);
        }
    }

    private static string FaithfulnessTable(IReadOnlyList<FaithfulnessRow> rows, PruningCriterion criterion)
    {
        bool probability = rows[0].Before.Loss is not null;
        var c = CultureInfo.InvariantCulture;
        var table = new StringBuilder();
        table.Append(probability
            ? "| Layer | Filter pruned | Loss | Accuracy | ROC AUC | Loss increase |\n|---|---|---|---|---|---|\n"
            : "| Layer | Filter pruned | MSE | MAE | MSE increase |\n|---|---|---|---|---|\n");
        foreach (var r in rows)
        {
            string which = r.Which == "none" ? "-" : $"{r.Which} {Adjective(criterion)} (#{r.Filter})";
            table.Append(probability
                ? string.Create(c, $"| {r.Layer} | {which} | {r.After.Loss:F6} | {r.After.Accuracy:P2} | {r.After.RocAuc:F4} | {r.PercentChange:F1} % |\n")
                : string.Create(c, $"| {r.Layer} | {which} | {r.After.Mse:F6} | {r.After.Mae:F6} | {r.PercentChange:F1} % |\n"));
        }

        return table.ToString();
    }

    private static string Csv(IReadOnlyList<PruningStep> curve)
    {
        var c = CultureInfo.InvariantCulture;
        var csv = new StringBuilder("removed,layer,filter,remaining_filters,loss,accuracy,roc_auc,mse,mae,percent_change\n");
        foreach (var s in curve)
        {
            csv.Append(c, $"{s.Removed},{s.Layer},{s.Filter},{s.RemainingFilters},{s.Metrics.Loss},{s.Metrics.Accuracy},{s.Metrics.RocAuc},{s.Metrics.Mse},{s.Metrics.Mae},{s.PercentChange:F4}\n");
        }

        return csv.ToString();
    }
}
