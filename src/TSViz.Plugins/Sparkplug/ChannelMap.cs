namespace TSViz.Plugins.Sparkplug;

/// <summary>Which Sparkplug metric feeds which model channel (<see cref="SparkplugDecoderSettings.MetricNames"/>).</summary>
internal sealed class ChannelMap
{
    private readonly Dictionary<string, int> channelOfMetric;

    public ChannelMap(SparkplugDecoderSettings settings)
    {
        Channels = [.. settings.Channels];
        Metrics = [.. settings.Channels.Select(settings.MetricOf)];
        channelOfMetric = Metrics.Select((metric, i) => (metric, i)).ToDictionary(p => p.metric, p => p.i, StringComparer.Ordinal);
    }

    /// <summary>The channels, in the model's order.</summary>
    public IReadOnlyList<string> Channels { get; }

    /// <summary>The metric of each channel, in the same order.</summary>
    public IReadOnlyList<string> Metrics { get; }

    public int Count => Channels.Count;

    /// <summary>The channel fed by the metric named <paramref name="metric"/>, or -1.</summary>
    public int ChannelOf(string metric) => channelOfMetric.TryGetValue(metric, out int channel) ? channel : -1;

    /// <summary>"channel 'torque' (metric 'Torque')" or "channel 'torque'" when the names agree, for details.</summary>
    public string Describe(int channel) => Channels[channel] == Metrics[channel]
        ? $"channel '{Channels[channel]}'"
        : $"channel '{Channels[channel]}' (metric '{SparkplugText.Quote(Metrics[channel])}')";
}
