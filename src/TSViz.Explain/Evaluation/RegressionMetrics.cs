namespace TSViz.Explain.Evaluation;

/// <summary>Errors of a forecaster in the units of its target.</summary>
/// <param name="Mse">Mean squared error.</param>
/// <param name="Mae">Mean absolute error.</param>
/// <param name="Count">Predictions compared.</param>
public sealed record RegressionMetrics(double Mse, double Mae, int Count)
{
    /// <summary>The errors of <paramref name="predictions"/> against <paramref name="targets"/> (same length, not empty).</summary>
    public static RegressionMetrics Compute(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets)
    {
        if (predictions.Length != targets.Length || predictions.Length == 0)
        {
            throw new ArgumentException($"Need as many predictions as targets, and at least one (got {predictions.Length} and {targets.Length}).", nameof(predictions));
        }

        double squared = 0, absolute = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            double error = (double)predictions[i] - targets[i];
            squared += error * error;
            absolute += Math.Abs(error);
        }

        return new RegressionMetrics(squared / predictions.Length, absolute / predictions.Length, predictions.Length);
    }
}
