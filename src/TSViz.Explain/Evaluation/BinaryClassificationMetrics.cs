namespace TSViz.Explain.Evaluation;

/// <summary>Counts of a binary decision against the truth.</summary>
/// <param name="TruePositives">Anomalies decided anomalous.</param>
/// <param name="FalsePositives">Normal windows decided anomalous (false alarms).</param>
/// <param name="TrueNegatives">Normal windows decided normal.</param>
/// <param name="FalseNegatives">Anomalies decided normal (missed).</param>
public sealed record ConfusionMatrix(int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    /// <summary>All windows counted.</summary>
    public int Total => TruePositives + FalsePositives + TrueNegatives + FalseNegatives;
}

/// <summary>How a probability model does at a threshold, plus its threshold-free ROC AUC.</summary>
/// <param name="Threshold">The decision threshold the counts are taken at.</param>
/// <param name="Accuracy">Share of windows decided right.</param>
/// <param name="Precision">Share of anomalous decisions that were anomalies (0 when none was decided).</param>
/// <param name="Recall">Share of anomalies decided anomalous (0 when there was none).</param>
/// <param name="F1">Harmonic mean of precision and recall.</param>
/// <param name="RocAuc">Area under the ROC curve: the chance that a random anomaly scores above a random normal window.</param>
/// <param name="Confusion">The counts behind the ratios.</param>
public sealed record BinaryClassificationMetrics(
    double Threshold,
    double Accuracy,
    double Precision,
    double Recall,
    double F1,
    double RocAuc,
    ConfusionMatrix Confusion)
{
    /// <summary>Scores at or above <paramref name="threshold"/> are anomalies; labels are 0 or 1.</summary>
    public static BinaryClassificationMetrics Compute(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, double threshold)
    {
        if (scores.Length != labels.Length || scores.Length == 0)
        {
            throw new ArgumentException($"Need as many scores as labels, and at least one (got {scores.Length} and {labels.Length}).", nameof(scores));
        }

        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            bool predicted = scores[i] >= threshold;
            bool actual = labels[i] >= 0.5f;
            if (predicted && actual)
            {
                tp++;
            }
            else if (predicted)
            {
                fp++;
            }
            else if (actual)
            {
                fn++;
            }
            else
            {
                tn++;
            }
        }

        double precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
        double recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new BinaryClassificationMetrics(
            threshold,
            (double)(tp + tn) / scores.Length,
            precision,
            recall,
            f1,
            ComputeRocAuc(scores, labels),
            new ConfusionMatrix(tp, fp, tn, fn));
    }

    /// <summary>
    /// Area under the ROC curve as the Mann-Whitney statistic: the probability that a random positive scores
    /// above a random negative, ties counting half (average ranks).
    /// </summary>
    public static double ComputeRocAuc(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
    {
        int n = scores.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var keys = scores.ToArray();
        Array.Sort(keys, order);
        double positiveRankSum = 0;
        int positives = 0;
        int start = 0;
        while (start < n)
        {
            int end = start;
            while (end + 1 < n && keys[end + 1] == keys[start])
            {
                end++;
            }

            double averageRank = ((start + end) / 2.0) + 1; // ranks are 1-based
            for (int k = start; k <= end; k++)
            {
                if (labels[order[k]] >= 0.5f)
                {
                    positiveRankSum += averageRank;
                    positives++;
                }
            }

            start = end + 1;
        }

        int negatives = n - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }

        return (positiveRankSum - (positives * (positives + 1) / 2.0)) / ((double)positives * negatives);
    }
}
