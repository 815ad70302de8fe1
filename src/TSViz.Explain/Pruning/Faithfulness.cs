using TSViz.Explain.Data;
using TSViz.Explain.Onnx;

namespace TSViz.Explain.Pruning;

/// <summary>One row of the faithfulness table: a layer, which filter was zeroed, and the metrics after.</summary>
/// <param name="Layer">The conv layer whose filter was zeroed ("none" for the unpruned baseline).</param>
/// <param name="Which">"none" (the unpruned model), "least" or "most" influential.</param>
/// <param name="Filter">The zeroed filter; null for the baseline.</param>
/// <param name="MeanInfluence">The zeroed filter's dataset influence (Eq. 28); null for the baseline.</param>
/// <param name="Before">The unpruned model's metrics.</param>
/// <param name="After">The metrics with the filter zeroed, without fine-tuning.</param>
/// <param name="PercentChange">Change of the loss (or MSE) from <paramref name="Before"/> to <paramref name="After"/>, in percent.</param>
public sealed record FaithfulnessRow(string Layer, string Which, int? Filter, float? MeanInfluence, EvaluationMetrics Before, EvaluationMetrics After, double PercentChange);

/// <summary>
/// The faithfulness test of TSViz Table 1: for each conv layer, zero the weights and bias of its most and of its
/// least influential filter (by dataset influence, Eq. 28), without fine-tuning, and compare the loss. If the
/// influence is faithful, removing the most influential filter hurts far more than removing the least.
/// </summary>
public static class Faithfulness
{
    /// <summary>The table for <paramref name="file"/>: the baseline, then per layer the least and the most influential filter zeroed.</summary>
    public static IReadOnlyList<FaithfulnessRow> Run(OnnxModelFile file, IReadOnlyList<LayerDatasetInfluence> influence, WindowSet evaluation)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(influence);
        using var original = Explainer.FromFile(file);
        var baseline = ModelEvaluation.Evaluate(original, evaluation);
        var rows = new List<FaithfulnessRow> { new("none", "none", null, null, baseline, baseline, 0) };
        foreach (var layer in influence)
        {
            int least = Array.IndexOf(layer.Mean, layer.Mean.Min());
            int most = Array.IndexOf(layer.Mean, layer.Mean.Max());
            foreach (var (which, filter) in new[] { ("least", least), ("most", most) })
            {
                var zeroed = ModelSurgery.ZeroFilters(file, original.Layers, [new FilterRef(layer.Layer, filter)]);
                using var explainer = Explainer.FromFile(zeroed);
                var after = ModelEvaluation.Evaluate(explainer, evaluation);
                rows.Add(new FaithfulnessRow(layer.Layer, which, filter, layer.Mean[filter], baseline, after, ModelEvaluation.PercentChange(baseline, after)));
            }
        }

        return rows;
    }
}
