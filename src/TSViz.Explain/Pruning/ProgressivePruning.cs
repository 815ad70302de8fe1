using TSViz.Explain.Data;
using TSViz.Explain.Models;
using TSViz.Explain.Onnx;
using TSViz.Explain.Training;

namespace TSViz.Explain.Pruning;

/// <summary>One point of the pruning curve (Fig. 10): after removing <see cref="Removed"/> filters in all.</summary>
/// <param name="Removed">Filters removed so far (0: the unpruned model).</param>
/// <param name="Layer">The layer of the filter removed at this step; null for the unpruned model.</param>
/// <param name="Filter">The filter removed at this step; null for the unpruned model.</param>
/// <param name="RemainingFilters">Conv filters left in the model.</param>
/// <param name="Metrics">The model's metrics after this step (and its fine-tuning).</param>
/// <param name="PercentChange">Change of the loss (or MSE) from the unpruned model, in percent.</param>
public sealed record PruningStep(int Removed, string? Layer, int? Filter, int RemainingFilters, EvaluationMetrics Metrics, double PercentChange);

/// <summary>
/// Progressive pruning (TSViz Fig. 10): remove the least influential filter (by layer-scaled dataset influence or
/// contribution, <see cref="PruningCriterion"/>, ranked once on the unpruned model), optionally fine-tune for some epochs with the removed filters held at
/// zero, evaluate, and repeat. A layer always keeps at least one filter. Fine-tuning needs a model of the
/// reference CNN family (it is rebuilt as a trainable module from the file's weights).
/// </summary>
public static class ProgressivePruning
{
    /// <summary>
    /// Removes up to <paramref name="steps"/> filters one by one, evaluating on <paramref name="evaluation"/> after each;
    /// with <paramref name="fineTuneEpochs"/> above 0 each step is fine-tuned on <paramref name="train"/> (early stopping
    /// on <paramref name="validation"/>). <paramref name="onStep"/> sees each point as it is reached; <paramref name="criterion"/>
    /// orders the filters.
    /// </summary>
    /// <returns>The curve, the unpruned model first.</returns>
    public static IReadOnlyList<PruningStep> Run(
        OnnxModelFile file,
        IReadOnlyList<LayerDatasetInfluence> influence,
        WindowSet evaluation,
        int steps,
        int fineTuneEpochs = 0,
        WindowSet? train = null,
        WindowSet? validation = null,
        TrainingOptions? training = null,
        Action<PruningStep>? onStep = null,
        PruningCriterion criterion = PruningCriteria.Default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(influence);
        if (fineTuneEpochs > 0 && (train is null || validation is null))
        {
            throw new ArgumentException("Fine-tuning needs training and validation windows.", nameof(train));
        }

        var order = PruningCandidates.Rank(influence, criterion: criterion);
        var remaining = influence.ToDictionary(l => l.Layer, l => l.Mean.Length);
        int total = remaining.Values.Sum();
        var removed = new List<FilterRef>();
        var current = file;
        EvaluationMetrics baseline;
        IReadOnlyList<Graph.ModelLayer> layers; // zeroing filters never changes the layers
        using (var explainer = Explainer.FromFile(file))
        {
            baseline = ModelEvaluation.Evaluate(explainer, evaluation);
            layers = explainer.Layers;
        }

        var curve = new List<PruningStep> { new(0, null, null, total, baseline, 0) };
        onStep?.Invoke(curve[0]);
        foreach (var candidate in order)
        {
            if (removed.Count >= steps)
            {
                break;
            }

            if (remaining[candidate.Layer] <= 1)
            {
                continue;
            }

            remaining[candidate.Layer]--;
            var target = new FilterRef(candidate.Layer, candidate.Filter);
            removed.Add(target);
            current = ModelSurgery.ZeroFilters(current, layers, [target]);

            if (fineTuneEpochs > 0)
            {
                current = FineTune(current, removed, train!, validation!, (training ?? new TrainingOptions()) with { MaxEpochs = fineTuneEpochs, EarlyStoppingPatience = fineTuneEpochs });
            }

            using var pruned = Explainer.FromFile(current);
            var metrics = ModelEvaluation.Evaluate(pruned, evaluation);
            var step = new PruningStep(removed.Count, candidate.Layer, candidate.Filter, total - removed.Count, metrics, ModelEvaluation.PercentChange(baseline, metrics));
            curve.Add(step);
            onStep?.Invoke(step);
        }

        return curve;
    }

    private static OnnxModelFile FineTune(OnnxModelFile file, IReadOnlyList<FilterRef> removed, WindowSet train, WindowSet validation, TrainingOptions options)
    {
        using var model = ConvNetImporter.Import(file);
        void HoldAtZero(ConvNet1d m)
        {
            foreach (var f in removed)
            {
                m.get_parameter($"{f.Layer}.weight")!.narrow(0, f.Filter, 1).zero_();
                m.get_parameter($"{f.Layer}.bias")!.narrow(0, f.Filter, 1).zero_();
            }
        }

        Trainer.Train(model, train, validation, options, afterStep: HoldAtZero);
        var proto = OnnxExporter.Export(model, file.Metadata);
        foreach (var extra in file.Model.MetadataProps.Where(p => proto.MetadataProps.All(q => q.Key != p.Key)))
        {
            proto.MetadataProps.Add(extra.Clone());
        }

        return new OnnxModelFile(file.Path, proto, file.Metadata);
    }
}
