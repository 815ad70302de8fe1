using Microsoft.Extensions.Options;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>
/// Stops the monitor when a stage of the live path is faulted, or stalled (input waiting, no progress) for longer
/// than Health:ExitAfterStallSeconds, so a supervisor (systemd, Kubernetes) restarts it instead of it hanging.
/// <see cref="ExitCode"/> is what the process then returns.
/// </summary>
internal sealed partial class HealthWatchdog(StageHealth health, IOptions<MonitorOptions> options, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<HealthWatchdog> logger)
    : BackgroundService
{
    /// <summary>EX_SOFTWARE: the monitor stopped because a stage failed.</summary>
    public const int FailedExitCode = 70;

    private volatile int exitCode;

    public int ExitCode => exitCode;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var limit = TimeSpan.FromSeconds(options.Value.Health.ExitAfterStallSeconds);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken).ConfigureAwait(false);
                if (health.Failing(limit) is { } failing)
                {
                    string state = failing.State == StageState.Faulted ? "faulted" : "stalled";
                    LogStageFailed(logger, failing.Name, state, failing.SecondsSinceProgress, failing.Waiting, failing.Fault ?? "no progress");
                    exitCode = FailedExitCode;
                    lifetime.StopApplication();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Critical, Message = "Live stage '{Stage}' is {State} ({Seconds:F0} s since progress, {Waiting} waiting: {Fault}); stopping the monitor with a non-zero exit code so its supervisor restarts it")]
    private static partial void LogStageFailed(ILogger logger, string stage, string state, double seconds, int waiting, string fault);
}
