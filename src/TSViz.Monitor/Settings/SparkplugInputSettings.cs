namespace TSViz.Monitor.Settings;

/// <summary>Sparkplug B input (docs/sparkplug.md, "Sparkplug B input"): section Monitor:Sparkplug:Input.</summary>
public sealed class SparkplugInputSettings
{
    /// <summary>Subscribe to Sparkplug B edge nodes besides the JSON topic pattern.</summary>
    public bool Enabled { get; set; }

    /// <summary>The Sparkplug groups to read ("+": every group).</summary>
    public string[] GroupIds { get; set; } = ["+"];

    /// <summary>The metric each channel is read from (channel -> metric name); a channel not listed: the metric of its own name.</summary>
    public Dictionary<string, string> MetricNames { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Ask an edge node for a rebirth (NCMD Node Control/Rebirth) when its seq skips; gaps are counted either way.</summary>
    public bool RebirthOnSequenceGap { get; set; }

    /// <summary>At most one rebirth request per edge node in this many seconds.</summary>
    public double RebirthIntervalSeconds { get; set; } = 5;
}
