namespace TSViz.Monitor.Tests.Web;

/// <summary>
/// One web test monitor for the interactive explainer's tests, with the tightest limit: one interactive request at a
/// time, none waiting, and a Retry-After of 2 s (not the default, so the header is seen to come from the setting).
/// </summary>
public sealed class InteractiveMonitorFixture : IAsyncLifetime
{
    public const int RetryAfterSeconds = 2;

    private WebTestMonitor? monitor;

    internal WebTestMonitor Monitor => monitor ?? throw new InvalidOperationException("The fixture has not started.");

    public async Task InitializeAsync()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        monitor = await WebTestMonitor.StartAsync(cancel.Token, new Dictionary<string, string?>
        {
            ["Monitor:Interactive:MaxConcurrent"] = "1",
            ["Monitor:Interactive:MaxQueued"] = "0",
            ["Monitor:Interactive:RetryAfterSeconds"] = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Monitor:Jobs:Enabled"] = "false",
        });
    }

    public async Task DisposeAsync()
    {
        if (monitor is not null)
        {
            await monitor.DisposeAsync();
        }
    }
}
