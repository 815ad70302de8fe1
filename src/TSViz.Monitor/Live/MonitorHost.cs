using System.Text.Json;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Monitor.History;
using TSViz.Monitor.Jobs;
using TSViz.Monitor.Security;
using TSViz.Monitor.Web;
using TSViz.Plugins.History.Sqlite;
using TSViz.Plugins.Ingest;

namespace TSViz.Monitor.Live;

/// <summary>Builds the live monitor: configuration, options, model, broker, worker, processor, simulator and HTTP endpoints.</summary>
internal static class MonitorHost
{
    public const string ConfigFile = "config/monitor.json";
    public const string EnvironmentPrefix = "TSVIZ_";

    /// <summary>
    /// Monitor:Health:NativeAllocator and NativeHeapArenas from the same sources as the host (file, then TSVIZ_
    /// variables), read before the host exists; a value that is not a number gives the default here and is reported
    /// by the validator.
    /// </summary>
    public static (string Allocator, int Arenas) NativeAllocatorSettings()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), ConfigFile), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix)
            .Build();
        var defaults = new HealthSettings();
        string allocator = configuration[$"{MonitorOptions.Section}:Health:NativeAllocator"] ?? defaults.NativeAllocator;
        int arenas = int.TryParse(configuration[$"{MonitorOptions.Section}:Health:NativeHeapArenas"], System.Globalization.CultureInfo.InvariantCulture, out int parsed)
            ? parsed : defaults.NativeHeapArenas;
        return (allocator, arenas);
    }

    /// <summary>The monitor's web application; <paramref name="overrides"/> (key = "Monitor:...") win over files and environment.</summary>
    /// <param name="overrides">Configuration that wins over files and environment.</param>
    /// <param name="services">Last say over the registrations (tests put a failing part in place of a real one).</param>
    public static WebApplication Build(IReadOnlyDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = Directory.GetCurrentDirectory() });
        builder.Configuration.AddJsonFile(ConfigFile, optional: true, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.AddTsvizMonitor();
        builder.AddTsvizHttpSecurity();
        services?.Invoke(builder.Services);
        builder.Services.AddProblemDetails();
        // The web view's script and the explorer's JSON shrink to about a third; a plant PC on a slow link loads the page fast.
        builder.Services.AddResponseCompression(o => o.MimeTypes = [.. ResponseCompressionDefaults.MimeTypes, "text/javascript"]);
        builder.Services.Configure<GzipCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "TSViz Monitor";
            document.Info.Description = "Explanation history, alerts, operator feedback, aggregates and nightly analyses of the TSViz monitor.";
            return Task.CompletedTask;
        }));
        string url = builder.Configuration[$"{MonitorOptions.Section}:HttpUrl"] ?? new MonitorOptions().HttpUrl;
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        app.UseResponseCompression();
        app.UseTsvizHttpSecurity();
        // Every endpoint declares who may use it (docs/security.md, "Roles"); a test fails on one that does not.
        app.MapMetrics("/metrics", app.Services.GetRequiredService<CollectorRegistry>()).RequireAuthorization(Roles.Viewer);
        app.MapOpenApi().RequireAuthorization(Roles.Viewer);
        app.MapSecurityApi();
        if (builder.Configuration.GetValue($"{MonitorOptions.Section}:History:Enabled", true))
        {
            app.MapHistoryApi();
            app.MapWebView();
            app.MapExplorerApi();
        }

        app.MapJobsApi();

        // Broker, stages, history writer and nightly jobs as health checks (MonitorHealthChecks.cs).
        app.MapMonitorHealth();
        return app;
    }

    /// <summary>Registers the monitor's options (validated at start), model, metrics and hosted services.</summary>
    public static WebApplicationBuilder AddTsvizMonitor(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<MonitorOptions>().Bind(builder.Configuration.GetSection(MonitorOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MonitorOptions>, MonitorOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        var registry = new CollectorRegistry();
        DotNetStats.Register(registry); // process_* and dotnet_* (memory, GC, CPU, threads) next to the monitor's own
        NativeHeap.Register(registry); // and the C allocator's view of the native heap (libtorch, ONNX Runtime, SQLite)
        services.AddSingleton(registry);
        services.AddSingleton<MonitorMetrics>();
        services.AddSingleton(sp => new LiveModel(sp.GetRequiredService<IOptions<MonitorOptions>>().Value.ModelPath));
        // A stuck stage cannot hold the process past the grace period (RunVerb enforces it for a stage that ignores it).
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(
            builder.Configuration.GetValue($"{MonitorOptions.Section}:Health:ShutdownGraceSeconds", new HealthSettings().ShutdownGraceSeconds)));
        services.AddSingleton<InteractiveExplainer>();
        services.AddSingleton<ModelInversion>();
        if (builder.Configuration.GetValue($"{MonitorOptions.Section}:History:Enabled", true))
        {
            // One registration; each consumer resolves only the history contract it uses.
            services.AddSqliteHistory(sp =>
            {
                var history = sp.GetRequiredService<IOptions<MonitorOptions>>().Value.History;
                return (history.Path, TimeSpan.FromSeconds(history.BusyTimeoutSeconds));
            });
            services.AddHostedService<HistoryInitializer>();
        }

        services.AddSingleton<HistoryWriter>();
        services.AddHostedService<NativeHeapTrimmer>();

        // The live path as stages (docs/architecture.md, "The live path"): gateway -> ingest (decoder, windows) -> processor
        // (score, alerts, explain) -> sinks (MQTT, history) -> acknowledgement, joined by bounded queues.
        services.AddSingleton<StageHealth>();
        services.AddMonitorHealthChecks();
        services.AddSingleton<LiveQueues>();
        services.AddSingleton<AcknowledgementTracker>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<MonitorOptions>>().Value.Mqtt.Topics());
        services.AddSingleton<ISampleDecoder>(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<MonitorOptions>>().Value;
            var model = sp.GetRequiredService<LiveModel>();
            var json = new JsonTelemetryDecoder(
                new JsonDecoderSettings
                {
                    Topics = sp.GetRequiredService<TopicPattern>(),
                    Channels = model.Metadata.Channels,
                    MaxPayloadBytes = settings.Mqtt.MaxPayloadBytes,
                    MaxFutureSkew = TimeSpan.FromSeconds(settings.MaxFutureSkewSeconds),
                },
                sp.GetRequiredService<TimeProvider>());
            return settings.Sparkplug.Input.Enabled
                ? RoutingDecoder.Create(json, settings, model.Metadata.Channels, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<CollectorRegistry>())
                : json;
        });
        services.AddSingleton<ILiveExplainer, LiveExplainer>();
        services.AddSingleton<MqttGateway>();
        services.AddSingleton<IResultPublisher>(sp => sp.GetRequiredService<MqttGateway>());
        services.AddSingleton<IResultSink, MqttResultSink>();
        if (builder.Configuration.GetValue($"{MonitorOptions.Section}:Sparkplug:Output:Enabled", false))
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
        services.AddHostedService<IngestStage>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttGateway>());
        services.AddSingleton<HealthWatchdog>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthWatchdog>());
        services.AddSingleton<Simulator>();
        if (builder.Configuration.GetValue($"{MonitorOptions.Section}:Simulator:Enabled", true))
        {
            services.AddHostedService(sp => sp.GetRequiredService<Simulator>());
        }

        builder.AddTsvizJobs();

        return builder;
    }
}
