using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Ingest;

namespace TSViz.Monitor.Live;

/// <summary>The live path's registrations: model, broker, gateway, stages, sinks, health and simulator.</summary>
internal static class LiveRegistration
{
    /// <summary>
    /// Registers the live path as stages (docs/architecture.md, "The live path"): gateway -> ingest (decoder, windows) ->
    /// processor (score, alerts, explain) -> sinks (MQTT, history) -> acknowledgement, joined by bounded queues.
    /// <paramref name="settings"/> is the configuration as bound when the host is built; it decides what is registered.
    /// </summary>
    public static IServiceCollection AddTsvizLive(this IServiceCollection services, MonitorOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        services.AddSingleton(sp => new LiveModel(sp.GetRequiredService<IOptions<MonitorOptions>>().Value.ModelPath));
        // A stuck stage cannot hold the process past the grace period (RunVerb enforces it for a stage that ignores it).
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(settings.Health.ShutdownGraceSeconds));
        services.AddHostedService<NativeHeapTrimmer>();

        services.AddSingleton<StageHealth>();
        services.AddSingleton<LiveQueues>();
        services.AddSingleton<AcknowledgementTracker>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<MonitorOptions>>().Value.Mqtt.Topics());
        services.AddSingleton<ISampleDecoder>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<MonitorOptions>>().Value;
            var model = sp.GetRequiredService<LiveModel>();
            var json = new JsonTelemetryDecoder(
                new JsonDecoderSettings
                {
                    Topics = sp.GetRequiredService<TopicPattern>(),
                    Channels = model.Metadata.Channels,
                    MaxPayloadBytes = options.Mqtt.MaxPayloadBytes,
                    MaxFutureSkew = TimeSpan.FromSeconds(options.MaxFutureSkewSeconds),
                },
                sp.GetRequiredService<TimeProvider>());
            return options.Sparkplug.Input.Enabled
                ? RoutingDecoder.Create(json, options, model.Metadata.Channels, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<CollectorRegistry>())
                : json;
        });
        services.AddSingleton<ILiveExplainer, LiveExplainer>();
        services.AddSingleton<HistoryWriter>(); // stores nothing without a history registered
        services.AddSingleton<MqttGateway>();
        services.AddSingleton<IResultPublisher>(sp => sp.GetRequiredService<MqttGateway>());
        services.AddSingleton<IResultSink, MqttResultSink>();
        if (settings.Sparkplug.Output.Enabled)
        {
            // The results as a Sparkplug B edge node too, on the gateway's session (its will, births and commands).
            services.AddSingleton<SparkplugOutput>();
            services.AddSingleton<IResultSink>(sp => sp.GetRequiredService<SparkplugOutput>());
            services.AddSingleton<IMqttSessionParticipant>(sp => sp.GetRequiredService<SparkplugOutput>());
        }

        // Hosted services start in this order and stop in reverse: the simulator first, then the gateway (which stops
        // taking input and waits for ingest and processor to drain before it disconnects), then the stages, then the
        // broker. The stages restore their state from the history before the gateway connects.
        services.AddSingleton<MqttSecurity.EmbeddedBrokerSecrets>();
        services.AddHostedService<EmbeddedBroker>();
        services.AddHostedService<WindowProcessor>();
        services.AddSingleton<AlertCounterfactuals>();
        services.AddSingleton<AlertPatternMatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<AlertPatternMatcher>());
        services.AddSingleton<DriftMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<DriftMonitor>());
        services.AddHostedService<CounterfactualWorker>();
        services.AddHostedService<IngestStage>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttGateway>());
        services.AddSingleton<HealthWatchdog>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthWatchdog>());
        services.AddSingleton<Simulator>();
        if (settings.Simulator.Enabled)
        {
            services.AddHostedService(sp => sp.GetRequiredService<Simulator>());
        }

        return services;
    }
}
