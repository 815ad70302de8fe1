namespace TSViz.Plugins.Sparkplug;

/// <summary>The device metrics of one <see cref="ExplanationReport"/>, named, in <see cref="SparkplugEdgeNodeMetrics"/>' order.</summary>
internal static class ExplanationMetrics
{
    /// <summary>The metrics, each stamped with the window's end.</summary>
    public static List<SparkplugMetric> Of(ExplanationReport report, IReadOnlyList<string> channels)
    {
        var unknown = report.ChannelContributions.Keys.Where(c => !channels.Contains(c, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"The report of '{report.Machine}' gives contributions of '{string.Join("', '", unknown)}', not a channel of the model ({string.Join(", ", channels)}).", nameof(report));
        }

        var robustness = report.Robustness;
        var metrics = new List<SparkplugMetric>
        {
            SparkplugMetric.String(SparkplugEdgeNodeMetrics.WindowId, report.WindowId),
            SparkplugMetric.DateTime(SparkplugEdgeNodeMetrics.WindowEnd, report.WindowEnd),
            SparkplugMetric.Double(SparkplugEdgeNodeMetrics.Score, report.Score),
            SparkplugMetric.Double(SparkplugEdgeNodeMetrics.Threshold, report.Threshold),
            SparkplugMetric.Boolean(SparkplugEdgeNodeMetrics.Anomaly, report.Anomaly),
            SparkplugMetric.String(SparkplugEdgeNodeMetrics.Reason, report.ReasonCode),
        };
        metrics.AddRange(channels.Select(channel => report.ChannelContributions.TryGetValue(channel, out double share)
            ? SparkplugMetric.Double(SparkplugEdgeNodeMetrics.Contribution(channel), share)
            : SparkplugMetric.Null(SparkplugEdgeNodeMetrics.Contribution(channel), SparkplugDataType.Double)));
        metrics.Add(robustness is null
            ? SparkplugMetric.Null(SparkplugEdgeNodeMetrics.RobustnessEpsilon, SparkplugDataType.Double)
            : SparkplugMetric.Double(SparkplugEdgeNodeMetrics.RobustnessEpsilon, robustness.Epsilon));
        metrics.Add(robustness is null
            ? SparkplugMetric.Null(SparkplugEdgeNodeMetrics.RobustnessScoreAfter, SparkplugDataType.Double)
            : SparkplugMetric.Double(SparkplugEdgeNodeMetrics.RobustnessScoreAfter, robustness.ScoreAfter));
        metrics.Add(robustness is null
            ? SparkplugMetric.Null(SparkplugEdgeNodeMetrics.RobustnessFlipped, SparkplugDataType.Boolean)
            : SparkplugMetric.Boolean(SparkplugEdgeNodeMetrics.RobustnessFlipped, robustness.Flipped));
        metrics.Add(SparkplugMetric.Boolean(SparkplugEdgeNodeMetrics.AlertOpen, report.Alert.Open));
        metrics.Add(report.Alert.AlertId is { } alertId
            ? SparkplugMetric.String(SparkplugEdgeNodeMetrics.AlertId, alertId)
            : SparkplugMetric.Null(SparkplugEdgeNodeMetrics.AlertId, SparkplugDataType.String));
        return [.. metrics.Select(m => m with { Timestamp = report.WindowEnd })];
    }
}
