using TSViz.Plugins.History;

namespace TSViz.Monitor.History;

/// <summary>Creates the history schema before anything writes to it (registered first among the hosted services).</summary>
internal sealed partial class HistoryInitializer(IHistorySchema schema, ILogger<HistoryInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await schema.InitializeAsync(cancellationToken).ConfigureAwait(false);
        LogReady(logger, schema.Location);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 502, Level = LogLevel.Information, Message = "Explanation history in {Path}")]
    private static partial void LogReady(ILogger logger, string path);
}
