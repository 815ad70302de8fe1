using Prometheus;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Ingest;
using TSViz.Plugins.Sparkplug;

namespace TSViz.Monitor.Live;

/// <summary>
/// The monitor's decoder when Sparkplug B input is on: topics in the Sparkplug namespace (spBv1.0/...) go to the
/// Sparkplug decoder, every other topic to the JSON decoder; the subscription is both decoders' filters. The monitor's
/// own Sparkplug output group is never input: with both on, the options validator requires the input groups to be
/// listed and to leave it out.
/// </summary>
internal sealed class RoutingDecoder(ISampleDecoder json, SparkplugDecoder sparkplug) : ISampleDecoder
{
    public IReadOnlyList<string> SubscriptionFilters => [.. json.SubscriptionFilters, .. sparkplug.SubscriptionFilters];

    public DecodeResult Decode(string topic, ReadOnlySpan<byte> payload)
    {
        return topic is not null && topic.StartsWith(SparkplugTopic.Namespace + "/", StringComparison.Ordinal)
            ? sparkplug.Decode(topic, payload)
            : json.Decode(topic!, payload);
    }

    /// <summary>Builds the decoder and exports the Sparkplug decoder's counters (read at each scrape).</summary>
    public static RoutingDecoder Create(ISampleDecoder json, MonitorOptions options, IReadOnlyList<string> channels, TimeProvider time, CollectorRegistry registry)
    {
        var input = options.Sparkplug.Input;
        var sparkplug = new SparkplugDecoder(
            new SparkplugDecoderSettings
            {
                Channels = channels,
                MetricNames = input.MetricNames,
                GroupIds = input.GroupIds,
                MaxPayloadBytes = options.Mqtt.MaxPayloadBytes,
                MaxFutureSkew = TimeSpan.FromSeconds(options.MaxFutureSkewSeconds),
                MaxSources = options.MaxMachines,
                RebirthOnSequenceGap = input.RebirthOnSequenceGap,
                RebirthInterval = TimeSpan.FromSeconds(input.RebirthIntervalSeconds),
            },
            time);
        var factory = Metrics.WithCustomRegistry(registry);
        var gaps = factory.CreateCounter("tsviz_sparkplug_sequence_gaps_total", "Sparkplug B messages whose seq was not the next of their edge node (still used; counted).");
        var rebirths = factory.CreateCounter("tsviz_sparkplug_rebirth_requests_total", "Rebirth requests (NCMD Node Control/Rebirth) sent to edge nodes: data before a birth, or a seq gap when RebirthOnSequenceGap.");
        var nodes = factory.CreateGauge("tsviz_sparkplug_edge_nodes", "Sparkplug B edge nodes whose session (from their NBIRTH) the monitor follows.");
        registry.AddBeforeCollectCallback(() =>
        {
            gaps.IncTo(sparkplug.SequenceGaps);
            rebirths.IncTo(sparkplug.RebirthRequests);
            nodes.Set(sparkplug.EdgeNodes);
        });
        return new RoutingDecoder(json, sparkplug);
    }
}
