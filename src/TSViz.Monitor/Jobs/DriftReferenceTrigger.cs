using Microsoft.Extensions.Options;
using Quartz;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// Runs the drift job as soon as a machine without a reference has enough normal windows (the live comparison says
/// so: <see cref="DriftMonitor.ReferencesWanted"/>), for the machines without one only, so drift is watched from the
/// first hour rather than the first night. The run is recorded like any manual run, triggered by "monitor".
/// </summary>
internal sealed partial class DriftReferenceTrigger(DriftMonitor drift, ISchedulerFactory schedulers, IOptions<MonitorOptions> options, ILogger<DriftReferenceTrigger> logger)
    : BackgroundService
{
    /// <summary>Signals within this long after a run was triggered wait for the next one (the windows keep coming).</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await drift.ReferencesWanted.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                drift.ReferencesWanted.TryRead(out string? machine);
                // The windows that made the machine ready are written to the history in the background: let them land.
                await Task.Delay(Settle, stoppingToken).ConfigureAwait(false);
                if (machine is null || drift.HasReference(machine))
                {
                    continue; // a run meanwhile built it (machines reaching the count together ask together)
                }

                var scheduler = await schedulers.GetScheduler(stoppingToken).ConfigureAwait(false);
                var data = new JobDataMap();
                data[NightlyJob.ManualKey] = "true";
                data[NightlyJob.TriggeredByKey] = $"monitor ({machine} reached Drift:MinReferenceWindows = {options.Value.Drift.MinReferenceWindows} normal windows without a reference)";
                data[DriftJob.OnlyMissingKey] = "true";
                await scheduler.TriggerJob(new JobKey(NightlyJobs.Drift, NightlyJobs.Group), data, stoppingToken).ConfigureAwait(false);
                LogTriggered(logger, machine ?? "?");
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = 366, Level = LogLevel.Information, Message = "Drift job triggered: {Machine} has enough normal windows for a reference")]
    private static partial void LogTriggered(ILogger logger, string machine);
}
