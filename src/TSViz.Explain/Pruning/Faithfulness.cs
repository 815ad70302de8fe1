using TSViz.Explain.Data;
using TSViz.Explain.Onnx;

namespace TSViz.Explain.Pruning;

/// <summary>One row of the faithfulness table: a layer, which filter was zeroed, and the metrics after.</summary>
/// <param name="Layer">The conv layer whose filter was zeroed ("none" for the unpruned baseline).</param>
/// <param name="Which">"none" (the unpruned model), "least" or "most" influential (or contributing, under <see cref="PruningCriterion.Contribution"/>).</param>
/// <param name="Filter">The zeroed filter; null for the baseline.</param>
/// <param name="MeanInfluence">The zeroed filter's dataset influence (Eq. 28); null for the baseline.</param>
/// <param name="Before">The unpruned model's metrics.</param>
/// <param name="After">The metrics with the filter zeroed, without fine-tuning.</param>
/// <param name="PercentChange">Change of the loss (or MSE) from <paramref name="Before"/> to <paramref name="After"/>, in percent.</param>
public sealed record FaithfulnessRow(string Layer, string Which, int? Filter, float? MeanInfluence, EvaluationMetrics Before, EvaluationMetrics After, double PercentChange)
{
    /// <summary>The zeroed filter's dataset contribution (mean of |sum_t a_j(t) dy/da_j(t)|); null for the baseline.</summary>
    public float? MeanContribution { get; init; }
}

/// <summary>
/// The faithfulness test of TSViz Table 1: for each conv layer, zero the weights and bias of its most and of its
/// least influential filter (by dataset influence, Eq. 28, or by dataset contribution: <see cref="PruningCriterion"/>),
/// without fine-tuning, and compare the loss. If the criterion is faithful, removing the most influential filter hurts
/// far more than removing the least.
/// </summary>
public static class Faithfulness
{
    /// <summary>
    /// The table for <paramref name="file"/>: the baseline, then per layer the least and the most influential filter
    /// under <paramref name="criterion"/> zeroed.
    /// </summary>
    public static IReadOnlyList<FaithfulnessRow> Run(
        OnnxModelFile file, IReadOnlyList<LayerDatasetInfluence> influence, WindowSet evaluation, PruningCriterion criterion = PruningCriteria.Default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(influence);
        using var original = Explainer.FromFile(file);
        var baseline = ModelEvaluation.Evaluate(original, evaluation);
        var rows = new List<FaithfulnessRow> { new("none", "none", null, null, baseline, baseline, 0) };
        foreach (var layer in influence)
        {
            var scores = layer.MeanBy(criterion);
            int least = Array.IndexOf(scores, scores.Min());
            int most = Array.IndexOf(scores, scores.Max());
            foreach (var (which, filter) in new[] { ("least", least), ("most", most) })
            {
                var zeroed = ModelSurgery.ZeroFilters(file, original.Layers, [new FilterRef(layer.Layer, filter)]);
                using var explainer = Explainer.FromFile(zeroed);
                var after = ModelEvaluation.Evaluate(explainer, evaluation);
                rows.Add(new FaithfulnessRow(layer.Layer, which, filter, layer.Mean[filter], baseline, after, ModelEvaluation.PercentChange(baseline, after))
                {
                    MeanContribution = layer.MeanContribution.Length > 0 ? layer.MeanContribution[filter] : null,
                });
            }
        }

        return rows;
    }
}
