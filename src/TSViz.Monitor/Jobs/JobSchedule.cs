using Microsoft.Extensions.Options;
using Quartz;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// Puts the jobs and their cron triggers into Quartz's persistent store at start. A stored trigger whose cron and
/// misfire instruction are unchanged is kept as it is, so a run missed while the monitor was down is a misfire Quartz
/// handles (below); a changed cron replaces the trigger; nothing is ever added twice.
/// </summary>
/// <remarks>
/// Misfire policy: FireAndProceed. When the monitor starts after a scheduled time passed unserved (it was down at
/// 02:00), Quartz fires the job once at start-up, then follows the cron again: one catch-up run however many nights
/// were missed (IgnoreMisfires would fire once per missed time, DoNothing would wait for the next night).
/// </remarks>
internal sealed partial class JobSchedule(ISchedulerFactory schedulers, IOptions<MonitorOptions> options, ILogger<JobSchedule> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken).ConfigureAwait(false);
        foreach (var job in NightlyJobs.All)
        {
            string cron = NightlyJobs.Cron(job, options.Value.Jobs);
            var jobKey = new JobKey(job.Name, NightlyJobs.Group);
            var detail = JobBuilder.Create().OfType(job.JobType).WithIdentity(jobKey).WithDescription(job.Description).StoreDurably()
                .RequestRecovery().Build(); // a run a dead node held runs again on another node (clustered store)
            await scheduler.AddJob(detail, new AddJobOptions { Replace = true }, cancellationToken).ConfigureAwait(false);

            var triggerKey = new TriggerKey(job.Name, NightlyJobs.Group);
            var existing = await scheduler.GetTrigger(triggerKey, cancellationToken).ConfigureAwait(false);
            var trigger = TriggerBuilder.Create().WithIdentity(triggerKey).ForJob(jobKey).WithDescription($"{job.CronKey} = {cron}")
                .WithSchedule(CronScheduleBuilder.Create(cron).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
                .Build();
            // A trigger Quartz put in ERROR (its job could not be run at all) would never fire again: it is replaced.
            if (existing is ICronTrigger stored && stored.CronExpressionString == cron && stored.MisfireInstruction == CronTriggerMisfireInstruction.FireAndProceed
                && await scheduler.GetTriggerState(triggerKey, cancellationToken).ConfigureAwait(false) != TriggerState.Error)
            {
                LogKept(logger, job.Name, cron, stored.NextFireTimeUtc);
                continue;
            }

            if (existing is null)
            {
                try
                {
                    await scheduler.ScheduleJob(trigger, new ScheduleJobOptions(), cancellationToken).ConfigureAwait(false);
                }
                catch (ObjectAlreadyExistsException)
                {
                    // Another node of the cluster scheduled it first, with the same cron: it is there, once.
                    LogKept(logger, job.Name, cron, null);
                    continue;
                }
            }
            else
            {
                await scheduler.RescheduleJob(triggerKey, trigger, cancellationToken).ConfigureAwait(false);
            }

            LogScheduled(logger, job.Name, cron);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 610, Level = LogLevel.Information, Message = "Job {Job} scheduled: cron {Cron}")]
    private static partial void LogScheduled(ILogger logger, string job, string cron);

    [LoggerMessage(EventId = 611, Level = LogLevel.Information, Message = "Job {Job} kept from the job store: cron {Cron}, next fire {Next}")]
    private static partial void LogKept(ILogger logger, string job, string cron, DateTimeOffset? next);
}
