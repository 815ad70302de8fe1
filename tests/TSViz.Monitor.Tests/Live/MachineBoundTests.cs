using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TSViz.Monitor.Live;
using Xunit.Abstractions;

namespace TSViz.Monitor.Tests.Live;

/// <summary>Any topic segment can name a machine: the state and the Prometheus series it costs stay bounded.</summary>
public sealed class MachineBoundTests(ITestOutputHelper output)
{
    private const int Bound = 200;
    private const int Names = 10_000;

    [Fact]
    public async Task Run_TenThousandMachineNames_MachinesAndSeriesStayWithinTheBoundAndIdleOnesAreForgotten()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, new Dictionary<string, string?>
        {
            ["Monitor:MaxMachines"] = Bound.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Monitor:MachineIdleSeconds"] = "4",
            ["Monitor:MaxGapSeconds"] = "1",
        });
        int length = monitor.WindowLength;
        var ingest = monitor.App.Services.GetServices<IHostedService>().OfType<IngestStage>().Single();
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
        int most = 0, mostScoreSeries = 0, mostContributionSeries = 0;
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            long lastScrape = 0;
            while (!watching.IsCancellationRequested)
            {
                most = Math.Max(most, ingest.Machines);
                // The series are read during the run: at its end the last machines taken may already be forgotten (idle
                // for MachineIdleSeconds while the wave's refusals were still being processed), and their series with them.
                if (Environment.TickCount64 - lastScrape >= 250)
                {
                    lastScrape = Environment.TickCount64;
                    string scraped = await monitor.MetricsAsync(cancel.Token);
                    mostScoreSeries = Math.Max(mostScoreSeries, scraped.Split('\n').Count(l => l.StartsWith("tsviz_score{", StringComparison.Ordinal)));
                    mostContributionSeries = Math.Max(mostContributionSeries, scraped.Split('\n').Count(l => l.StartsWith("tsviz_channel_contribution_ratio{", StringComparison.Ordinal)));
                }

                await Task.Delay(20, CancellationToken.None);
            }
        }, CancellationToken.None);

        // Two waves of 5,000 names each (one full window per message), the second after the first wave's machines went idle.
        long heapAfterFirst = 0;
        for (int wave = 0; wave < 2; wave++)
        {
            for (int n = wave * (Names / 2); n < (wave + 1) * (Names / 2); n++)
            {
                await monitor.PublishAsync($"plant/line1/machine-{n:D5}/telemetry", Window(start, length, n), cancel.Token);
            }

            await LiveTestMonitor.Until(
                () => monitor.On("/deadletter").Count + monitor.On("/explanation").Count >= (wave + 1) * (Names / 2), cancel.Token,
                () => $"wave {wave}: {monitor.On("/deadletter").Count} dead letters, {monitor.On("/explanation").Count} explanations, {ingest.Machines} machines held");
            if (wave == 0)
            {
                await LiveTestMonitor.Until(() => ingest.Machines == 0, cancel.Token, () => $"{ingest.Machines} machines still held"); // forgotten after 4 s idle
                heapAfterFirst = GC.GetTotalMemory(forceFullCollection: true);
            }
        }

        await watching.CancelAsync();
        await watcher;
        string metrics = await monitor.MetricsAsync(cancel.Token);
        int scoreSeries = Math.Max(mostScoreSeries, metrics.Split('\n').Count(l => l.StartsWith("tsviz_score{", StringComparison.Ordinal)));
        int contributionSeries = Math.Max(mostContributionSeries, metrics.Split('\n').Count(l => l.StartsWith("tsviz_channel_contribution_ratio{", StringComparison.Ordinal)));
        long heapAfterSecond = GC.GetTotalMemory(forceFullCollection: true);
        double? rejected = LiveTestMonitor.Metric(metrics, "tsviz_messages_rejected_total{reason=\"too_many_machines\"}");
        int explained = monitor.On("/explanation").Count;
        output.WriteLine($"most machines held {most}, explained {explained}, refused {rejected}, most score series {scoreSeries}, managed heap {heapAfterFirst / 1048576.0:F1} -> {heapAfterSecond / 1048576.0:F1} MiB");

        Assert.InRange(most, 1, Bound);
        // Every name was either taken on (one window explained) or refused; each wave took on at least Bound names
        // (more only if the wave outlasted the idle time and early machines were forgotten during it).
        Assert.Equal(Names, explained + rejected);
        Assert.InRange(explained, 2 * Bound, Names / 2);
        Assert.InRange(scoreSeries, 1, Bound);
        Assert.InRange(contributionSeries, 1, Bound * 3);
        Assert.DoesNotContain("machine-00000", metrics, StringComparison.Ordinal); // the first wave's series went with its machines
        Assert.True(LiveTestMonitor.Metric(metrics, "tsviz_machines_evicted_total") >= Bound);
    }

    private static string Window(DateTimeOffset start, int length, int seed)
    {
        var json = new StringBuilder("{\"samples\":[");
        for (int i = 0; i < length; i++)
        {
            json.Append(i > 0 ? "," : string.Empty).Append(LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i + seed));
        }

        return json.Append("]}").ToString();
    }
}
