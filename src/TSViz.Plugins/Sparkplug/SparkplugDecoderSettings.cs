namespace TSViz.Plugins.Sparkplug;

/// <summary>Settings of <see cref="SparkplugDecoder"/>.</summary>
public sealed record SparkplugDecoderSettings
{
    /// <summary>The model's channels, in input order; each sample carries one value per channel.</summary>
    public required IReadOnlyList<string> Channels { get; init; }

    /// <summary>
    /// The Sparkplug metric each channel is read from (channel name to metric name). A channel not listed is read from
    /// the metric of its own name, so the default (empty) maps pressure, temperature and torque to metrics of those names.
    /// </summary>
    public IReadOnlyDictionary<string, string> MetricNames { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The Sparkplug groups to subscribe to; the default "+" is every group.</summary>
    public IReadOnlyList<string> GroupIds { get; init; } = ["+"];

    /// <summary>Payloads larger than this are refused unread.</summary>
    public int MaxPayloadBytes { get; init; } = 256 * 1024;

    /// <summary>Timestamps further than this behind the decoder's clock are refused as absurd.</summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Timestamps further than this ahead of the decoder's clock are refused: one sample from a clock that runs ahead
    /// would make every true sample after it look out of order (as for the JSON decoder).
    /// </summary>
    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// At most this many edge nodes and devices (together) are remembered; a birth of one more is refused
    /// (<see cref="Ingest.RejectionReason.TooManyMachines"/>) until a death frees a place.
    /// </summary>
    public int MaxSources { get; init; } = 10_000;

    /// <summary>
    /// Whether a seq gap also asks the edge node for a rebirth. Off by default: the monitor reads every message it gets
    /// in any order (a gap is counted, <see cref="SparkplugDecoder.SequenceGaps"/>), and a rebirth request disturbs a
    /// plant's other hosts as well; a primary host would turn it on.
    /// </summary>
    public bool RebirthOnSequenceGap { get; init; }

    /// <summary>
    /// At most one rebirth request per edge node in this time, however many messages find the decoder's view stale:
    /// the edge node needs the time to answer, and a request per message would flood it.
    /// </summary>
    public TimeSpan RebirthInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks the settings; the message names the setting and what it accepts.</summary>
    internal void Validate()
    {
        if (Channels is null || Channels.Count == 0)
        {
            throw new ArgumentException("Channels must name at least one channel.", nameof(Channels));
        }

        var unknown = MetricNames.Keys.Where(channel => !Channels.Contains(channel, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"MetricNames maps '{string.Join("', '", unknown)}', which is not a channel ({string.Join(", ", Channels)}).", nameof(MetricNames));
        }

        var metrics = Channels.Select(MetricOf).ToList();
        var shared = metrics.GroupBy(m => m, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (shared is not null)
        {
            throw new ArgumentException($"Two channels are read from the metric '{shared.Key}'; each channel needs its own metric.", nameof(MetricNames));
        }

        if (GroupIds.Count == 0 || GroupIds.Any(g => g != "+" && !SparkplugTopic.IsValidId(g)))
        {
            throw new ArgumentException($"GroupIds ({string.Join(", ", GroupIds)}) must be '+' or group ids (non-empty, without '+', '/', '#').", nameof(GroupIds));
        }

        if (MaxPayloadBytes <= 0 || MaxSources <= 0)
        {
            throw new ArgumentException($"MaxPayloadBytes ({MaxPayloadBytes}) and MaxSources ({MaxSources}) must be positive.");
        }

        if (MaxClockSkew < TimeSpan.Zero || MaxFutureSkew < TimeSpan.Zero || RebirthInterval < TimeSpan.Zero)
        {
            throw new ArgumentException($"MaxClockSkew ({MaxClockSkew}), MaxFutureSkew ({MaxFutureSkew}) and RebirthInterval ({RebirthInterval}) must not be negative.");
        }
    }

    /// <summary>The metric <paramref name="channel"/> is read from.</summary>
    internal string MetricOf(string channel) => MetricNames.TryGetValue(channel, out string? metric) ? metric : channel;
}
