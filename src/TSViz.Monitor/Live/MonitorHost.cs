using System.Text.Json;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Monitor.History;
using TSViz.Monitor.Jobs;
using TSViz.Monitor.Web;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Live;

/// <summary>Builds the live monitor: configuration, options, model, broker, worker, processor, simulator and HTTP endpoints.</summary>
internal static class MonitorHost
{
    public const string ConfigFile = "config/monitor.json";
    public const string EnvironmentPrefix = "TSVIZ_";

    /// <summary>The monitor's web application; <paramref name="overrides"/> (key = "Monitor:...") win over files and environment.</summary>
    public static WebApplication Build(IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = Directory.GetCurrentDirectory() });
        builder.Configuration.AddJsonFile(ConfigFile, optional: true, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.AddTsvizMonitor();
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
        app.MapMetrics("/metrics", app.Services.GetRequiredService<CollectorRegistry>());
        app.MapOpenApi();
        if (builder.Configuration.GetValue($"{MonitorOptions.Section}:History:Enabled", true))
        {
            app.MapHistoryApi();
            app.MapWebView();
            app.MapExplorerApi();
        }

        app.MapJobsApi();

        app.MapGet("/health", (MonitorWorker worker, LiveModel model, JobRunLog jobs) =>
        {
            bool healthy = worker.IsConnected;
            var body = new Dictionary<string, object>
            {
                ["status"] = healthy ? "healthy" : "unhealthy",
                ["broker"] = worker.IsConnected ? "connected" : "disconnected",
                ["model"] = model.Version,
            };
            if (jobs.Health() is { } entries)
            {
                body["jobs"] = entries; // a failed job shows here and in its metrics; the monitor stays healthy (README, "Nightly jobs")
            }

            return Results.Json(body, statusCode: healthy ? 200 : 503);
        });
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
        services.AddSingleton(registry);
        services.AddSingleton<MonitorMetrics>();
        services.AddSingleton(sp => new LiveModel(sp.GetRequiredService<IOptions<MonitorOptions>>().Value.ModelPath));
        services.AddSingleton<InteractiveExplainer>();
        services.AddSingleton<ModelInversion>();
        if (builder.Configuration.GetValue($"{MonitorOptions.Section}:History:Enabled", true))
        {
            services.AddSingleton(sp => new SqliteHistoryStore(sp.GetRequiredService<IOptions<MonitorOptions>>().Value.History.Path));
            services.AddSingleton<IHistoryStore>(sp => sp.GetRequiredService<SqliteHistoryStore>());
            services.AddHostedService<HistoryInitializer>();
        }

        services.AddSingleton<HistoryWriter>();
        // Hosted services stop in reverse order: the simulator first, then the worker (which drains through the
        // processor before it disconnects), then the processor, then the broker.
        services.AddHostedService<EmbeddedBroker>();
        services.AddSingleton<MonitorWorker>();
        services.AddHostedService<WindowProcessor>();
        services.AddHostedService(sp => sp.GetRequiredService<MonitorWorker>());
        services.AddSingleton<Simulator>();
        if (builder.Configuration.GetValue($"{MonitorOptions.Section}:Simulator:Enabled", true))
        {
            services.AddHostedService(sp => sp.GetRequiredService<Simulator>());
        }

        builder.AddTsvizJobs();

        return builder;
    }
}
