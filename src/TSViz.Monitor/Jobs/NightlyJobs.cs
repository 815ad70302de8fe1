using Quartz;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History.Sqlite;

namespace TSViz.Monitor.Jobs;

/// <summary>One scheduled job: its name (also its Quartz job and trigger key), its job type and the key of its cron.</summary>
internal sealed record NightlyJobDefinition(string Name, Type JobType, string CronKey, string Description);

/// <summary>
/// The nightly Quartz jobs (analysis, retention) and their registration. Quartz keeps its schedule in the history's
/// SQLite file (AdoJobStore, Microsoft.Data.Sqlite), so a trigger missed while the monitor was down is found, and
/// fired once, when it starts again.
/// </summary>
internal static class NightlyJobs
{
    public const string Analysis = "analysis";
    public const string Retention = "retention";
    public const string Group = "tsviz";

    public static readonly string[] Outcomes = [JobOutcome.Succeeded, JobOutcome.Failed, JobOutcome.Skipped];

    public static readonly IReadOnlyList<NightlyJobDefinition> All =
    [
        new(Analysis, typeof(AnalysisJob), "Jobs:AnalysisCron", "Filter clusters, dataset influence, dead filters, pruning candidates and the faithfulness check on the stored input windows."),
        new(Retention, typeof(RetentionJob), "Jobs:RetentionCron", "Deletes history records older than History:Retain*Days."),
    ];

    public static string Cron(NightlyJobDefinition job, JobSettings settings) => job.Name == Analysis ? settings.AnalysisCron : settings.RetentionCron;

    /// <summary>How long Quartz and the job-run log wait for the history writer's lock instead of failing.</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The connection string Quartz and the job-run log use for the history file (the history's own builder, with <see cref="BusyTimeout"/>).</summary>
    public static string ConnectionString(string historyPath) => SqliteConnectionFactory.ConnectionStringOf(historyPath, BusyTimeout);

    /// <summary>
    /// Registers Quartz with its persistent store in the history file, the schema initialiser (before Quartz's hosted
    /// service, so the tables exist when the scheduler starts), the jobs, their schedule and the run log.
    /// </summary>
    /// <param name="services">The monitor's services.</param>
    /// <param name="settings">The configuration as bound when the host is built: the jobs run only with Jobs:Enabled and History:Enabled.</param>
    public static IServiceCollection AddTsvizJobs(this IServiceCollection services, MonitorOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        bool enabled = settings.Jobs.Enabled && settings.History.Enabled;
        services.AddSingleton<JobMetrics>();
        services.AddSingleton(sp => new JobRunLog(
            enabled ? ConnectionString(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<MonitorOptions>>().Value.History.Path) : null,
            sp.GetRequiredService<JobMetrics>(), sp.GetRequiredService<TimeProvider>()));
        if (!enabled)
        {
            return services;
        }

        string connectionString = ConnectionString(settings.History.Path);
        services.AddHostedService(sp => new JobStoreInitializer(connectionString, sp.GetRequiredService<JobRunLog>()));
        services.AddTransient<AnalysisJob>();
        services.AddTransient<RetentionJob>();
        services.AddQuartz(q =>
        {
            q.UseTimeProvider(TimeProvider.System);
            // One worker thread: the jobs are CPU-bound and the live path needs the other core.
            q.UseDefaultThreadPool(1);
            q.UsePersistentStore(s =>
            {
                s.UseSqlite(connectionString);
                s.UseSystemTextJsonSerializer();
            });
        });
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        // After Quartz's hosted service: puts the jobs and their cron triggers into the store (keeping a stored
        // trigger whose cron is unchanged, so its misfire is honoured).
        services.AddHostedService<JobSchedule>();
        return services;
    }
}

/// <summary>How a run ended.</summary>
internal static class JobOutcome
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
}
