using TSViz.Explain.Data;
using TSViz.Explain.Evaluation;

namespace TSViz.Explain.Pruning;

/// <summary>How a model does on a labelled set: loss, accuracy and ROC AUC for probabilities; MSE and MAE for values.</summary>
/// <param name="Loss">Mean binary cross-entropy (probability models with a decision threshold; the others get MSE and MAE).</param>
/// <param name="Accuracy">Share decided right at the model's threshold (probability models).</param>
/// <param name="RocAuc">Area under the ROC curve (probability models).</param>
/// <param name="Mse">Mean squared error (value models).</param>
/// <param name="Mae">Mean absolute error (value models).</param>
public sealed record EvaluationMetrics(double? Loss, double? Accuracy, double? RocAuc, double? Mse, double? Mae)
{
    /// <summary>The figure percent changes are reported on: the loss (binary cross-entropy) or the MSE.</summary>
    public double Primary => Loss ?? Mse ?? double.NaN;
}

/// <summary>Evaluates a model (through its explainer's TorchSharp graph) on windows with targets.</summary>
public static class ModelEvaluation
{
    private const int Batch = 2048;

    /// <summary>The metrics of <paramref name="explainer"/>'s model on <paramref name="set"/>.</summary>
    public static EvaluationMetrics Evaluate(Explainer explainer, WindowSet set)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        ArgumentNullException.ThrowIfNull(set);
        var scores = new float[set.Count];
        int size = set.Channels * set.Length;
        for (int start = 0; start < set.Count; start += Batch)
        {
            int n = Math.Min(Batch, set.Count - start);
            explainer.Score(set.Values.AsSpan(start * size, n * size), n).CopyTo(scores, start);
        }

        if (explainer.Metadata.DecisionThreshold is double threshold && explainer.Graph.FinalActivation != "none")
        {
            double loss = 0;
            for (int i = 0; i < scores.Length; i++)
            {
                double p = Math.Clamp(scores[i], 1e-7, 1 - 1e-7);
                loss -= set.Targets[i] >= 0.5f ? Math.Log(p) : Math.Log(1 - p);
            }

            var m = BinaryClassificationMetrics.Compute(scores, set.Targets, threshold);
            return new EvaluationMetrics(loss / scores.Length, m.Accuracy, m.RocAuc, null, null);
        }

        var r = RegressionMetrics.Compute(scores, set.Targets);
        return new EvaluationMetrics(null, null, null, r.Mse, r.Mae);
    }

    /// <summary>100 x (after - baseline) / baseline of the <see cref="EvaluationMetrics.Primary"/> figure.</summary>
    public static double PercentChange(EvaluationMetrics baseline, EvaluationMetrics after)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(after);
        return 100 * (after.Primary - baseline.Primary) / baseline.Primary;
    }
}
