using TSViz.Explain.Data;
using TSViz.Explain.Onnx;

namespace TSViz.Explain.Pruning;

/// <summary>One filter zeroed alone: its two criteria and the damage measured.</summary>
/// <param name="Layer">The conv layer.</param>
/// <param name="Filter">The filter's index in the layer.</param>
/// <param name="Influence">Its dataset influence (Eq. 28 mean of Eq. 16).</param>
/// <param name="Contribution">Its dataset contribution (mean of |sum_t a_j(t) dy/da_j(t)|).</param>
/// <param name="Loss">The loss (binary cross-entropy; the MSE for a value model) with the filter zeroed, without fine-tuning.</param>
/// <param name="DamagePercent">The damage: change of the loss (or MSE) from the unpruned model, in percent.</param>
public sealed record FilterDamageRow(string Layer, int Filter, float Influence, float Contribution, double Loss, double DamagePercent)
{
    /// <summary>Its mean |a_j(t)| over the windows and time steps: how large its output is.</summary>
    public float Activation { get; init; }
}

/// <summary>Under one criterion, the layer's least and most ranked filter and the damage each does when zeroed (Table 1's test).</summary>
/// <param name="Least">The filter with the smallest dataset mean under the criterion.</param>
/// <param name="LeastPercentChange">Its damage, in percent.</param>
/// <param name="Most">The filter with the largest dataset mean under the criterion.</param>
/// <param name="MostPercentChange">Its damage, in percent.</param>
public sealed record CriterionExtremes(int Least, double LeastPercentChange, int Most, double MostPercentChange);

/// <summary>How well each criterion's ranking of a layer's filters predicts the damage of zeroing each alone.</summary>
/// <param name="Layer">The conv layer.</param>
/// <param name="Filters">Its filter count.</param>
/// <param name="SpearmanInfluence">Spearman's rho (average ranks for ties) of influence and damage over the layer's filters.</param>
/// <param name="SpearmanContribution">Spearman's rho of contribution and damage.</param>
/// <param name="ByInfluence">The least and most influential filter and their damage.</param>
/// <param name="ByContribution">The least and most contributing filter and their damage.</param>
public sealed record LayerDamage(string Layer, int Filters, double SpearmanInfluence, double SpearmanContribution, CriterionExtremes ByInfluence, CriterionExtremes ByContribution);

/// <summary>Every filter's damage and the per-layer agreement of the criteria with it.</summary>
/// <param name="Baseline">The unpruned model's metrics.</param>
/// <param name="Layers">Per conv layer, input side first.</param>
/// <param name="Rows">Per filter, layer by layer.</param>
public sealed record FilterDamageReport(EvaluationMetrics Baseline, IReadOnlyList<LayerDamage> Layers, IReadOnlyList<FilterDamageRow> Rows);

/// <summary>
/// Per-filter damage: every filter of every conv layer zeroed alone (weights and bias, <see cref="ModelSurgery.ZeroFilters"/>),
/// without fine-tuning, and the change of the loss (binary cross-entropy, or the MSE of a value model) it causes; per
/// layer, Spearman's rank correlation of each criterion (influence, Eq. 16; contribution) with that damage. A criterion
/// that ranks pruning candidates well orders the filters as their damage does.
/// </summary>
public static class FilterDamage
{
    /// <summary>
    /// Measures every filter of <paramref name="influence"/>'s layers on <paramref name="evaluation"/>;
    /// <paramref name="onFilter"/> sees each row as it is measured.
    /// </summary>
    public static FilterDamageReport Measure(
        OnnxModelFile file, IReadOnlyList<LayerDatasetInfluence> influence, WindowSet evaluation, Action<FilterDamageRow>? onFilter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(influence);
        using var original = Explainer.FromFile(file);
        var baseline = ModelEvaluation.Evaluate(original, evaluation);
        var rows = new List<FilterDamageRow>();
        var layers = new List<LayerDamage>();
        foreach (var layer in influence)
        {
            var own = new List<FilterDamageRow>();
            for (int f = 0; f < layer.Mean.Length; f++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var zeroed = ModelSurgery.ZeroFilters(file, original.Layers, [new FilterRef(layer.Layer, f)]);
                using var explainer = Explainer.FromFile(zeroed);
                var after = ModelEvaluation.Evaluate(explainer, evaluation);
                var row = new FilterDamageRow(layer.Layer, f, layer.Mean[f], layer.MeanContribution[f], after.Primary, ModelEvaluation.PercentChange(baseline, after))
                {
                    Activation = layer.MeanActivation[f],
                };
                own.Add(row);
                onFilter?.Invoke(row);
            }

            rows.AddRange(own);
            layers.Add(Summarize(layer.Layer, own));
        }

        return new FilterDamageReport(baseline, layers, rows);
    }

    /// <summary>The layer's Spearman figures and extremes from its rows.</summary>
    public static LayerDamage Summarize(string layer, IReadOnlyList<FilterDamageRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var damage = rows.Select(r => r.DamagePercent).ToArray();
        var influence = rows.Select(r => (double)r.Influence).ToArray();
        var contribution = rows.Select(r => (double)r.Contribution).ToArray();
        return new LayerDamage(layer, rows.Count,
            RankCorrelation.Spearman(influence, damage), RankCorrelation.Spearman(contribution, damage),
            Extremes(rows, influence), Extremes(rows, contribution));
    }

    // First index of the smallest and largest, as the faithfulness test picks them.
    private static CriterionExtremes Extremes(IReadOnlyList<FilterDamageRow> rows, double[] scores)
    {
        int least = Array.IndexOf(scores, scores.Min());
        int most = Array.IndexOf(scores, scores.Max());
        return new CriterionExtremes(rows[least].Filter, rows[least].DamagePercent, rows[most].Filter, rows[most].DamagePercent);
    }
}
