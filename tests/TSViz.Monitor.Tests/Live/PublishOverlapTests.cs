using Microsoft.Extensions.DependencyInjection;
using TSViz.Monitor.Live;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// The processor does not idle while the broker acknowledges a batch's results: it explains the next batch meanwhile.
/// The history (and so the input's acknowledgement) still waits for every publish of a batch, in batch order.
/// </summary>
public sealed class PublishOverlapTests
{
    [Fact]
    public async Task Run_ABatchsPublishHeld_TheNextBatchIsExplained_ButNeitherIsStoredUntilTheHeldOneIsDone()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var sink = new HoldingSink("m1");
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, services: s => s.AddSingleton<IResultSink>(sink));
        int length = monitor.WindowLength;
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
        var store = monitor.App.Services.GetRequiredService<IHistoryStore>();

        try
        {
            // m1's window: its results reach the broker, but this sink does not let the batch's publishes finish.
            await monitor.PublishAsync("plant/line1/m1/telemetry", Window(start, length), cancel.Token);

            await LiveTestMonitor.Until(() => sink.Held > 0 && monitor.On("/m1/explanation").Count == 1, cancel.Token, () => $"held {sink.Held}");

            // m2's window comes in a later batch: it is explained and published while m1's batch still awaits its publish.
            await monitor.PublishAsync("plant/line1/m2/telemetry", Window(start, length), cancel.Token);

            await LiveTestMonitor.Until(() => monitor.On("/m2/explanation").Count == 1, cancel.Token, () => "m2 was not explained while m1's publish was held");

            // Ten commit intervals later, neither is in the history: m1 waits for its publish, m2 for m1.
            await Task.Delay(TimeSpan.FromSeconds(1), cancel.Token);
            Assert.Empty((await store.QueryWindowsAsync(new WindowQuery { Limit = 10 }, cancel.Token)).Items);

            sink.Release();
            await LiveTestMonitor.Until(
                () => store.QueryWindowsAsync(new WindowQuery { Limit = 10 }, cancel.Token).Result.Items.Count == 2, cancel.Token, () => "m1 and m2 were not stored after the release");
            Assert.Equal(["line1/m1", "line1/m2"], (await store.QueryWindowsAsync(new WindowQuery { Limit = 10 }, cancel.Token)).Items.Select(w => w.Machine).Order());
        }
        finally
        {
            sink.Release(); // a failed assertion must not leave the monitor's shutdown waiting on the sink
        }
    }

    /// <summary>One gateway message holding a whole window of samples, so its window and checkpoint come in one batch.</summary>
    private static string Window(DateTimeOffset start, int length)
        => "{\"samples\":[" + string.Join(',', Enumerable.Range(0, length).Select(i => LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i))) + "]}";

    /// <summary>A sink whose publishes of one machine's results finish only once released.</summary>
    private sealed class HoldingSink(string machine) : IResultSink
    {
        private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int held;

        public int Held => Volatile.Read(ref held);

        public void Release() => released.TrySetResult();

        public Task PublishAsync(LiveResult result, CancellationToken cancellationToken)
        {
            if (!result.Machine.EndsWith(machine, StringComparison.Ordinal))
            {
                return Task.CompletedTask;
            }

            Interlocked.Increment(ref held);
            return released.Task.WaitAsync(cancellationToken);
        }
    }
}
