namespace TSViz.Monitor.Jobs;

/// <summary>Creates the Quartz tables and job_runs before Quartz's scheduler starts, then loads the last runs.</summary>
internal sealed class JobStoreInitializer(string connectionString, JobRunLog runs) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await QuartzSchema.EnsureAsync(connectionString, cancellationToken).ConfigureAwait(false);
        await runs.LoadAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
