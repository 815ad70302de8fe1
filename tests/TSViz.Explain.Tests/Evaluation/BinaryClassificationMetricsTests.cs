using TSViz.Explain.Evaluation;

namespace TSViz.Explain.Tests.Evaluation;

public sealed class BinaryClassificationMetricsTests
{
    [Fact]
    public void Compute_HandWorkedExample_GivesCountsAndRates()
    {
        float[] scores = [0.9f, 0.8f, 0.4f, 0.6f, 0.1f, 0.3f];
        float[] labels = [1, 1, 1, 0, 0, 0];
        var m = BinaryClassificationMetrics.Compute(scores, labels, 0.5);
        Assert.Equal(new ConfusionMatrix(2, 1, 2, 1), m.Confusion);
        Assert.Equal(4.0 / 6, m.Accuracy, 10);
        Assert.Equal(2.0 / 3, m.Precision, 10);
        Assert.Equal(2.0 / 3, m.Recall, 10);

        // Pairs (positive, negative) ordered right: 0.9 and 0.8 beat all three; 0.4 beats 0.1 and 0.3: 8 of 9.
        Assert.Equal(8.0 / 9, m.RocAuc, 10);
    }

    [Fact]
    public void ComputeRocAuc_Ties_CountHalf()
    {
        float[] scores = [0.5f, 0.5f];
        float[] labels = [1, 0];
        Assert.Equal(0.5, BinaryClassificationMetrics.ComputeRocAuc(scores, labels), 10);
    }

    [Fact]
    public void RegressionMetrics_HandValues()
    {
        var m = RegressionMetrics.Compute([1f, 2f, 4f], [1f, 3f, 2f]);
        Assert.Equal(5.0 / 3, m.Mse, 6);
        Assert.Equal(1.0, m.Mae, 6);
    }
}
