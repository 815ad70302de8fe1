using System.CommandLine;
using Microsoft.Extensions.Options;
using TSViz.Explain.Onnx;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Hosting;

/// <summary>`run` (also the default verb): the live monitor on its configuration (embedded defaults out of the box).</summary>
internal static partial class RunVerb
{
    public static Command Create(TextWriter error)
    {
        var command = new Command("run", "Run the live monitor: MQTT in, ONNX Runtime scoring, TSViz explanations and alerts out, /metrics and /health over HTTP.");
        command.SetAction((_, cancellationToken) => RunAsync(error, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            await using var app = MonitorHost.Build();

            // Fail fast, with one clear line, on a bad configuration or model before anything starts.
            var options = app.Services.GetRequiredService<IOptions<MonitorOptions>>().Value;
            // Before libtorch and ONNX Runtime load and their threads start allocating (docs/live-monitor.md, "9. Memory").
            var startLogger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RunVerb).FullName!);
            if (string.Equals(options.Health.NativeAllocator.Trim(), NativeAllocator.Jemalloc, StringComparison.OrdinalIgnoreCase)
                && NativeHeap.AllocatorName != NativeAllocator.Jemalloc)
            {
                throw new OptionsValidationException(MonitorOptions.Section, typeof(MonitorOptions),
                    [$"{MonitorOptions.Section}:Health:NativeAllocator is jemalloc, but the process does not run on it ({(NativeAllocator.FindJemalloc() is null ? "libjemalloc.so.2 not found; Debian: apt-get install libjemalloc2" : $"LD_PRELOAD={Environment.GetEnvironmentVariable("LD_PRELOAD")}")}); set it to auto or glibc to run on glibc"]);
            }

            if (NativeHeap.Configure(options.Health.NativeHeapMmapThresholdKiB) is { } allocator)
            {
                Log.NativeHeapConfigured(startLogger, allocator);
            }

            var model = app.Services.GetRequiredService<LiveModel>();
            if (options.History.Enabled)
            {
                // A corrupt or unreadable history file stops here with one line, before anything connects.
                await app.Services.GetRequiredService<TSViz.Plugins.History.IHistorySchema>().InitializeAsync(cancellationToken).ConfigureAwait(false);
            }

            if (options.WarmUp)
            {
                Log.WarmingUp(startLogger, options.MaxBatch);
                var took = model.WarmUp(options.MaxBatch, options.RobustnessEpsilon);
                Log.WarmedUp(startLogger, took.TotalSeconds);
            }
            // Shutdown is bounded: a stage that ignores its cancellation cannot hold SIGTERM (or a watchdog stop) past
            // the grace period; the process then exits non-zero rather than hang.
            var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
            var watchdog = app.Services.GetRequiredService<HealthWatchdog>(); // RunAsync disposes the services
            var grace = TimeSpan.FromSeconds(options.Health.ShutdownGraceSeconds + 5);
            using var finished = new CancellationTokenSource();
            using var forced = lifetime.ApplicationStopping.Register(() => _ = Task.Delay(grace, finished.Token).ContinueWith(
                delay =>
                {
                    if (delay.IsCanceled)
                    {
                        return;
                    }

                    error.WriteLine($"error: shutdown took longer than Monitor:Health:ShutdownGraceSeconds ({options.Health.ShutdownGraceSeconds} s) + 5 s; exiting");
                    error.Flush();
                    Environment.Exit(HealthWatchdog.FailedExitCode);
                },
                TaskScheduler.Default));
            await app.RunAsync(cancellationToken).ConfigureAwait(false);
            await finished.CancelAsync().ConfigureAwait(false);
            int code = watchdog.ExitCode;
            if (code != 0)
            {
                await error.WriteLineAsync("error: a stage of the live path failed (see the log above); exiting so the supervisor restarts the monitor").ConfigureAwait(false);
            }

            return code;
        }
        catch (TSViz.Plugins.History.HistoryStoreException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (OptionsValidationException ex)
        {
            await error.WriteLineAsync($"error: invalid configuration ({MonitorHost.ConfigFile} or {MonitorHost.EnvironmentPrefix}Monitor__... variables): {string.Join("; ", ex.Failures)}").ConfigureAwait(false);
            return 2;
        }
        catch (ModelFileException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Warming up: scoring and explaining every batch size up to {MaxBatch} before connecting")]
        public static partial void WarmingUp(ILogger logger, int maxBatch);

        [LoggerMessage(Level = LogLevel.Information, Message = "C allocator: {Settings} (Monitor:Health:NativeAllocator and NativeHeap...)")]
        public static partial void NativeHeapConfigured(ILogger logger, string settings);

        [LoggerMessage(Level = LogLevel.Information, Message = "Warm-up done in {Seconds:F1} s")]
        public static partial void WarmedUp(ILogger logger, double seconds);
    }
}
