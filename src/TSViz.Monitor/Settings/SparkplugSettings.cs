using TSViz.Plugins.Sparkplug;

namespace TSViz.Monitor.Settings;

/// <summary>Section Monitor:Sparkplug.</summary>
public sealed class SparkplugSettings
{
    public SparkplugInputSettings Input { get; set; } = new();

    public SparkplugOutputSettings Output { get; set; } = new();

    /// <summary>Section Monitor:Sparkplug's rules; the edge node id defaults to <paramref name="mqtt"/>'s client id.</summary>
    internal void Validate(OptionFailures failures, MqttSettings mqtt)
    {
        failures.Check(Input.GroupIds.Length > 0 && Input.GroupIds.All(g => g == "+" || SparkplugTopic.IsValidId(g)),
            "Sparkplug:Input:GroupIds", "must list group ids (no '/', '+' or '#' inside) or \"+\" for every group", string.Join(", ", Input.GroupIds));
        failures.Check(Input.RebirthIntervalSeconds is > 0 and <= 3600, "Sparkplug:Input:RebirthIntervalSeconds", "must lie in (0, 3600]", Input.RebirthIntervalSeconds);
        failures.Check(Input.MetricNames.Values.All(v => !string.IsNullOrWhiteSpace(v)),
            "Sparkplug:Input:MetricNames", "must map channels to metric names", string.Join(", ", Input.MetricNames.Select(p => $"{p.Key}={p.Value}")));
        if (Output.Enabled)
        {
            // The monitor's input would otherwise read its own edge node's births and data as machines.
            failures.Check(!Input.Enabled || !Input.GroupIds.Any(g => g == "+" || g == Output.GroupId), "Sparkplug:Input:GroupIds",
                $"must not include \"+\" or Sparkplug:Output:GroupId ({Output.GroupId}) when both are enabled: list the plant's groups", string.Join(", ", Input.GroupIds));
            failures.Check(SparkplugTopic.IsValidId(Output.GroupId), "Sparkplug:Output:GroupId", "must be a Sparkplug id: non-empty, without '+', '/' or '#'", Output.GroupId);
            failures.Check(SparkplugTopic.IsValidId(Output.EdgeNode(mqtt)), string.IsNullOrEmpty(Output.EdgeNodeId) ? "Mqtt:ClientId" : "Sparkplug:Output:EdgeNodeId",
                "must be a Sparkplug id to name the edge node: non-empty, without '+', '/' or '#' (set Monitor:Sparkplug:Output:EdgeNodeId)", Output.EdgeNode(mqtt));
        }
    }
}
