using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Monitor.Cluster;
using TSViz.Monitor.History;
using TSViz.Monitor.Jobs;
using TSViz.Monitor.Live;
using TSViz.Monitor.Security;
using TSViz.Monitor.Settings;
using TSViz.Monitor.Web;

namespace TSViz.Monitor.Hosting;

/// <summary>
/// The composition root: the only place that reads configuration and knows every feature. Each feature registers
/// itself (AddTsviz...) and maps its endpoints (Map...); this class decides which, from the section bound once.
/// </summary>
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
        // No configuration reload: the host's default watches appsettings files through a recursive watcher on the content
        // root, which then wakes on every history and log write below it (measured: a tenth of a core under live load).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = Directory.GetCurrentDirectory(),
        });
        builder.Configuration.AddJsonFile(ConfigFile, optional: true, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        var settings = BindForRegistration(builder.Configuration);
        builder.AddTsvizCluster(settings); // before the live path: the silo is up when input arrives
        builder.Services
            .AddTsvizOptions(builder.Configuration)
            .AddTsvizHistory(settings.History)
            .AddTsvizWeb()
            .AddTsvizLive(settings)
            .AddTsvizJobs(settings)
            .AddMonitorHealthChecks();
        builder.AddTsvizHttpSecurity(settings.Security);
        services?.Invoke(builder.Services);
        builder.Services.AddTsvizHttpDefaults();
        builder.WebHost.UseUrls(settings.HttpUrl);

        var app = builder.Build();
        app.UseResponseCompression();
        app.UseTsvizHttpSecurity();
        // Every endpoint declares who may use it (docs/security.md, "Roles"); a test fails on one that does not.
        app.MapMetrics("/metrics", app.Services.GetRequiredService<CollectorRegistry>()).RequireAuthorization(Roles.Viewer);
        app.MapOpenApi().RequireAuthorization(Roles.Viewer);
        app.MapSecurityApi();
        if (settings.History.Enabled)
        {
            app.MapHistoryApi();
            app.MapDriftApi();
            app.MapTsvizWeb();
        }

        app.MapJobsApi(settings.History.Enabled, settings.Jobs.Enabled);
        // Broker, stages, history writer and nightly jobs as health checks (MonitorHealthChecks.cs).
        app.MapMonitorHealth();
        return app;
    }

    /// <summary>
    /// Section Monitor as configured, for deciding what to register and map. A value that does not convert gives the
    /// defaults here: the options bound again at start (<see cref="AddTsvizOptions"/>) report it and stop the host.
    /// </summary>
    internal static MonitorOptions BindForRegistration(ConfigurationManager configuration)
    {
        try
        {
            return configuration.GetSection(MonitorOptions.Section).Get<MonitorOptions>() ?? new MonitorOptions();
        }
        catch (InvalidOperationException)
        {
            return new MonitorOptions();
        }
    }

    /// <summary>
    /// Every rule on section Monitor, checked at start: each section's own and the cross-section ones
    /// (<see cref="MonitorOptionsValidator"/>), and those only a feature can judge (live path, MQTT security, HTTP).
    /// </summary>
    internal static readonly IReadOnlyList<IValidateOptions<MonitorOptions>> OptionValidators =
        [new MonitorOptionsValidator(), new LiveOptionsValidator(), new MqttSecurity.MqttSecurityOptionsValidator(), new Security.SecurityOptionsValidator()];

    /// <summary>Section Monitor checked against <see cref="OptionValidators"/>, as start-up checks it.</summary>
    internal static ValidateOptionsResult ValidateOptions(MonitorOptions options)
    {
        var failures = OptionValidators.Select(v => v.Validate(Options.DefaultName, options)).Where(r => r.Failed).SelectMany(r => r.Failures ?? []).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The options (bound to section Monitor and validated at start), the clock and the metrics every feature shares.</summary>
    private static IServiceCollection AddTsvizOptions(this IServiceCollection services, ConfigurationManager configuration)
    {
        services.AddOptions<MonitorOptions>().Bind(configuration.GetSection(MonitorOptions.Section)).ValidateOnStart();
        foreach (var validator in OptionValidators)
        {
            services.AddSingleton(validator);
        }
        services.AddSingleton(TimeProvider.System);
        var registry = new CollectorRegistry();
        DotNetStats.Register(registry); // process_* and dotnet_* (memory, GC, CPU, threads) next to the monitor's own
        NativeHeap.Register(registry); // and the C allocator's view of the native heap (libtorch, ONNX Runtime, SQLite)
        services.AddSingleton(registry);
        services.AddSingleton<LiveMetrics>();
        return services;
    }

    /// <summary>Problem details, compression and the OpenAPI document.</summary>
    private static IServiceCollection AddTsvizHttpDefaults(this IServiceCollection services)
    {
        services.AddProblemDetails();
        // The web view's script and the explorer's JSON shrink to about a third; a plant PC on a slow link loads the page fast.
        services.AddResponseCompression(o => o.MimeTypes = [.. ResponseCompressionDefaults.MimeTypes, "text/javascript"]);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "TSViz Monitor";
            document.Info.Description = "Explanation history, alerts, operator feedback, aggregates and nightly analyses of the TSViz monitor.";
            return Task.CompletedTask;
        }));
        return services;
    }
}
