namespace TSViz.Monitor.Jobs;

/// <summary>
/// Creates the job store's tables before Quartz's scheduler starts (SQLite: Quartz's and job_runs; PostgreSQL:
/// job_runs, Quartz provisions its own), then loads the last runs. With a store the nodes share, it re-reads them
/// every <see cref="RefreshInterval"/>, so each node's /health, /api/jobs and metrics show runs another node made.
/// </summary>
internal sealed partial class JobStoreInitializer(JobRunLog runs, ILogger<JobStoreInitializer> logger) : BackgroundService
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(15);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await runs.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await runs.LoadAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!runs.Shared)
        {
            return;
        }

        using var timer = new PeriodicTimer(RefreshInterval, runs.Time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await runs.LoadAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRefreshFailed(logger, ex.Message);
            }
        }
    }

    [LoggerMessage(EventId = 612, Level = LogLevel.Warning, Message = "Reading the cluster's job runs failed, retrying in 15 s: {Error}")]
    private static partial void LogRefreshFailed(ILogger logger, string error);
}
