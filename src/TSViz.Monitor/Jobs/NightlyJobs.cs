using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History.Sqlite;

namespace TSViz.Monitor.Jobs;

/// <summary>One scheduled job: its name (also its Quartz job and trigger key), its job type and the key of its cron.</summary>
internal sealed record NightlyJobDefinition(string Name, Type JobType, string CronKey, string Description);

/// <summary>
/// The nightly Quartz jobs (analysis, retention, patterns) and their registration. Quartz keeps its schedule in the history's
/// database (AdoJobStore: the SQLite file, or clustered in PostgreSQL), so a trigger missed while the monitor was down
/// is found, and fired once, when it starts again.
/// </summary>
internal static class NightlyJobs
{
    public const string Analysis = "analysis";
    public const string Retention = "retention";
    public const string Patterns = "patterns";
    public const string Drift = "drift";
    public const string Group = "tsviz";

    public static readonly string[] Outcomes = [JobOutcome.Succeeded, JobOutcome.Failed, JobOutcome.Skipped];

    public static readonly IReadOnlyList<NightlyJobDefinition> All =
    [
        new(Analysis, typeof(AnalysisJob), "Jobs:AnalysisCron", "Filter clusters, dataset influence, dead filters, pruning candidates and the faithfulness check on the stored input windows."),
        new(Retention, typeof(RetentionJob), "Jobs:RetentionCron", "Deletes history records older than History:Retain*Days."),
        new(Patterns, typeof(PatternsJob), "Jobs:PatternsCron", "Groups the alerts of the last Jobs:PatternDays days into recurring fault patterns by their explanations."),
        new(Drift, typeof(DriftJob), "Jobs:DriftCron", "Builds each machine's drift reference for the deployed model version from the normal windows of the reference period (Drift:Reference*)."),
    ];

    public static string Cron(NightlyJobDefinition job, JobSettings settings) => job.Name switch
    {
        Analysis => settings.AnalysisCron,
        Patterns => settings.PatternsCron,
        Drift => settings.DriftCron,
        _ => settings.RetentionCron,
    };

    /// <summary>How long Quartz and the job-run log wait for the history writer's lock instead of failing.</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The connection string Quartz and the job-run log use for the history file (the history's own builder, with <see cref="BusyTimeout"/>).</summary>
    public static string ConnectionString(string historyPath) => SqliteConnectionFactory.ConnectionStringOf(historyPath, BusyTimeout);

    /// <summary>
    /// Registers Quartz with its persistent store in the history's database, the schema initialiser (before Quartz's
    /// hosted service, so the tables exist when the scheduler starts), the jobs, their schedule and the run log. With
    /// the history in PostgreSQL, Quartz runs clustered on it: every node schedules, exactly one node runs each fire, and
    /// a run a dead node held is recovered by another (the jobs request recovery and are idempotent).
    /// </summary>
    /// <param name="services">The monitor's services.</param>
    /// <param name="settings">The configuration as bound when the host is built: the jobs run only with Jobs:Enabled and History:Enabled.</param>
    public static IServiceCollection AddTsvizJobs(this IServiceCollection services, MonitorOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        bool enabled = settings.Jobs.Enabled && settings.History.Enabled;
        bool postgres = settings.History.IsPostgres;
        services.AddSingleton<JobMetrics>();
        if (enabled && postgres)
        {
            services.AddSingleton(sp => NpgsqlDataSource.Create(sp.GetRequiredService<IOptions<MonitorOptions>>().Value.History.ConnectionString!));
            services.AddSingleton<IJobRunStore>(sp => new PostgresJobRunStore(sp.GetRequiredService<NpgsqlDataSource>()));
        }
        else if (enabled)
        {
            services.AddSingleton<IJobRunStore>(sp => new SqliteJobRunStore(ConnectionString(sp.GetRequiredService<IOptions<MonitorOptions>>().Value.History.Path)));
        }

        services.AddSingleton(sp => new JobRunLog(sp.GetService<IJobRunStore>(), sp.GetRequiredService<JobMetrics>(), sp.GetRequiredService<TimeProvider>()));
        if (!enabled)
        {
            return services;
        }

        services.AddHostedService<JobStoreInitializer>();
        services.AddTransient<AnalysisJob>();
        services.AddTransient<RetentionJob>();
        services.AddTransient<PatternsJob>();
        services.AddTransient<DriftJob>();
        if (settings.Drift.Enabled && settings.Drift.BuildWhenReady)
        {
            services.AddHostedService<DriftReferenceTrigger>();
        }
        services.AddQuartz(q =>
        {
            q.UseTimeProvider(TimeProvider.System);
            // One worker thread: the jobs are CPU-bound and the live path needs the other core.
            q.UseDefaultThreadPool(1);
            if (postgres)
            {
                // The same name on every node (one cluster). The id: in cluster mode the node's name (unique in the
                // cluster; qrtz_scheduler_state and qrtz_fired_triggers then say which node holds a run, and a node
                // restarted under its name recovers its own interrupted runs at once); else Quartz's own, generated per scheduler.
                q.ConfigureScheduler(s =>
                {
                    s.InstanceName = "tsviz";
                    if (settings.Cluster.Enabled)
                    {
                        s.InstanceId = settings.Cluster.NodeName;
                    }
                });
            }

            q.UsePersistentStore(s =>
            {
                if (postgres)
                {
                    s.UsePostgres(settings.History.ConnectionString!);
                    // Quartz's own PostgreSQL tables, as the Quartz.NET version the monitor pins expects them
                    // (CREATE ... IF NOT EXISTS; nodes starting together are fine).
                    s.ProvisionSchema();
                    s.UseClustering(c =>
                    {
                        c.CheckinInterval = ClusterCheckin;
                        c.CheckinMisfireThreshold = ClusterCheckin;
                    });
                }
                else
                {
                    s.UseSqlite(ConnectionString(settings.History.Path));
                }

                s.UseSystemTextJsonSerializer();
            });
        });
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        // After Quartz's hosted service: puts the jobs and their cron triggers into the store (keeping a stored
        // trigger whose cron is unchanged, so its misfire is honoured).
        services.AddHostedService<JobSchedule>();
        return services;
    }

    /// <summary>
    /// How often a clustered node checks in, and how late a check-in may be before the others take its runs over: a run
    /// a dead node held is recovered within about two intervals plus this threshold.
    /// </summary>
    public static readonly TimeSpan ClusterCheckin = TimeSpan.FromSeconds(7.5);
}

/// <summary>How a run ended.</summary>
internal static class JobOutcome
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
}
