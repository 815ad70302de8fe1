using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Tests.Live;

/// <summary>Machine identity from the whole topic (issue 15): two lines with a machine of the same name stay two machines.</summary>
public sealed class MachineIdentityTests
{
    private const int Hop = 10;

    [Fact]
    public async Task Run_TwoLinesWithTheSameMachineName_KeepTheirOwnWindowsTopicsSeriesAndHistory_AndTheMirrorFollows()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, new Dictionary<string, string?>
        {
            ["Monitor:Mqtt:UnsMirror"] = "acme/{line}/{machine}/tsviz/{kind}",
        });
        await monitor.ObserveAsync("acme/#", cancel.Token);
        int length = monitor.WindowLength;
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));

        // Line A's m2 is 1 s ahead of line B's m2: merged into one stream, B's samples would be refused as out of
        // order (or, the other way round, interleaved into one window). Kept apart, each completes its own windows.
        for (int i = 0; i < length + Hop; i++)
        {
            await monitor.PublishAsync("plant/A/m2/telemetry", LiveTestMonitor.SampleJson(start.AddSeconds(1).AddMilliseconds(100 * i), i), cancel.Token);
            await monitor.PublishAsync("plant/B/m2/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i + 1000), cancel.Token);
        }

        await LiveTestMonitor.Until(() => monitor.On("/v1/A/m2/explanation").Count >= 2 && monitor.On("/v1/B/m2/explanation").Count >= 2, cancel.Token,
            () => string.Join(", ", monitor.Received.Select(r => r.Topic).Distinct()));
        var a = monitor.Received.Where(r => r.Topic == "tsviz/v1/A/m2/explanation").Select(r => r.Body).ToList();
        var b = monitor.Received.Where(r => r.Topic == "tsviz/v1/B/m2/explanation").Select(r => r.Body).ToList();
        Assert.Equal(2, a.Count);
        Assert.Equal(2, b.Count);
        Assert.All(a, e => Assert.Equal("A/m2", e.GetProperty("machine").GetString()));
        Assert.All(b, e => Assert.Equal("B/m2", e.GetProperty("machine").GetString()));
        Assert.All(a, e => Assert.StartsWith("A/m2:", e.GetProperty("id").GetString(), StringComparison.Ordinal));
        Assert.Equal(start.AddSeconds(1).AddMilliseconds(100 * (length - 1)), a[0].GetProperty("windowEnd").GetDateTimeOffset());
        Assert.Equal(start.AddMilliseconds(100 * (length - 1)), b[0].GetProperty("windowEnd").GetDateTimeOffset());

        // The Unified Namespace mirror carries the same payloads on the machine's own path.
        await LiveTestMonitor.Until(() => monitor.Received.Count(r => r.Topic == "acme/A/m2/tsviz/explanation") >= 2, cancel.Token);
        Assert.Equal(a.Select(e => e.GetProperty("id").GetString()),
            monitor.Received.Where(r => r.Topic == "acme/A/m2/tsviz/explanation").Select(r => r.Body.GetProperty("id").GetString()));

        // Nothing refused as out of order: the two streams never met.
        string metrics = await monitor.MetricsAsync(cancel.Token);
        Assert.Equal(0, LiveTestMonitor.Metric(metrics, "tsviz_samples_dropped_total{reason=\"out_of_order\"}") ?? 0);
        Assert.Contains("tsviz_score{machine=\"A/m2\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("tsviz_score{machine=\"B/m2\"}", metrics, StringComparison.Ordinal);

        var store = monitor.App.Services.GetRequiredService<IHistoryStore>();
        Page<WindowRecord> storedA = new([], null), storedB = new([], null);
        await LiveTestMonitor.Until(() =>
        {
            storedA = store.QueryWindowsAsync(new WindowQuery { Machine = "A/m2" }, cancel.Token).GetAwaiter().GetResult();
            storedB = store.QueryWindowsAsync(new WindowQuery { Machine = "B/m2" }, cancel.Token).GetAwaiter().GetResult();
            return storedA.Items.Count >= 2 && storedB.Items.Count >= 2;
        }, cancel.Token);
        Assert.Empty(storedA.Items.Select(w => w.Id).Intersect(storedB.Items.Select(w => w.Id)));
        var api = await monitor.Http.GetStringAsync(new Uri("/api/windows?machine=" + Uri.EscapeDataString("B/m2"), UriKind.Relative), cancel.Token);
        Assert.Contains("\"machine\":\"B/m2\"", api, StringComparison.Ordinal);
        Assert.DoesNotContain("\"machine\":\"A/m2\"", api, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_TemplateWithTheMachineAlone_KeepsTheOldIds()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, new Dictionary<string, string?> { ["Monitor:Mqtt:MachineId"] = "{machine}" });
        int length = monitor.WindowLength;
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
        for (int i = 0; i < length; i++)
        {
            await monitor.PublishAsync("plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i), cancel.Token);
        }

        await LiveTestMonitor.Until(() => monitor.Received.Any(r => r.Topic == "tsviz/v1/m1/explanation"), cancel.Token);
        var explanation = monitor.Received.First(r => r.Topic == "tsviz/v1/m1/explanation").Body;
        Assert.Equal("m1", explanation.GetProperty("machine").GetString());
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture, $"m1:{start.AddMilliseconds(100 * (length - 1)).UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}:"),
            explanation.GetProperty("id").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Monitor:Mqtt:TopicPattern", "plant/telemetry", "Monitor:Mqtt:TopicPattern is not usable: the pattern has no wildcard level")]
    [InlineData("Monitor:Mqtt:MachineId", "{cell}/{machine}", "Monitor:Mqtt:MachineId is not usable: the pattern the machine id template '{cell}/{machine}'")]
    [InlineData("Monitor:Mqtt:UnsMirror", "acme/{area}/{machine}/{kind}", "Monitor:Mqtt:UnsMirror is not usable: it level '{area}'")]
    [InlineData("Monitor:Mqtt:UnsMirror", "acme/{line}/{machine}", "Monitor:Mqtt:UnsMirror is not usable: it needs {kind}")]
    public void Validate_AnUnusableTopicSetting_NamesTheKey(string key, string value, string expected)
    {
        var options = new MonitorOptions();
        switch (key)
        {
            case "Monitor:Mqtt:TopicPattern": options.Mqtt.TopicPattern = value; break;
            case "Monitor:Mqtt:MachineId": options.Mqtt.MachineId = value; break;
            default: options.Mqtt.UnsMirror = value; break;
        }

        var result = MonitorHost.ValidateOptions(options);
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }
}
