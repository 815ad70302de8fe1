using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Prometheus;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// A counterfactual for every alert: computed off the live path, published with the alert, stored, served by the API;
/// each one checked here by applying its changes to the received window and rescoring it with an ONNX Runtime session
/// and a z-scoring of this test's own.
/// </summary>
public sealed class CounterfactualTests
{
    private const int Samples = 260;

    private static readonly string[] Channels = ["pressure", "temperature", "torque"];

    [Fact]
    public async Task AnAlertsCounterfactual_AppliedToTheReceivedWindow_ScoresBelowTheCloseLevel_AndChangesOnlyItsCells()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token);
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-5));
        var sent = new Dictionary<DateTimeOffset, double[]>();
        var spikeTimes = Enumerable.Range(100, 3).Select(i => start.AddMilliseconds(100 * i)).ToList();
        for (int i = 0; i < Samples; i++)
        {
            // One temperature spike of 8 degrees over three samples, as a sensor fault would show it.
            double spike = i is >= 100 and < 103 ? 8 : 0;
            string json = LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i, spike);
            using (var sample = JsonDocument.Parse(json))
            {
                var root = sample.RootElement;
                sent[DateTimeOffset.Parse(root.GetProperty("ts").GetString()!, CultureInfo.InvariantCulture)] =
                    [root.GetProperty("pressure").GetDouble(), root.GetProperty("temperature").GetDouble(), root.GetProperty("torque").GetDouble()];
            }

            await monitor.PublishAsync("plant/line1/m1/telemetry", json, cancel.Token);
        }

        // The spike has left every window after sample 152, so the alert closes; its closing state carries the
        // counterfactual of its final peak (the one the API then returns).
        JsonElement Latest() => monitor.On("/alert").LastOrDefault();
        await LiveTestMonitor.Until(
            () => Latest() is { ValueKind: JsonValueKind.Object } a && a.GetProperty("status").GetString() == "closed" && a.TryGetProperty("counterfactual", out var cf)
                && cf.GetProperty("peakWindowId").GetString() == a.GetProperty("peakWindowId").GetString(),
            cancel.Token, () => $"alert messages: {string.Join(" | ", monitor.On("/alert").Select(a => a.GetRawText()[..Math.Min(200, a.GetRawText().Length)]))}");
        var alert = Latest();
        var published = alert.GetProperty("counterfactual");
        Assert.True(published.GetProperty("found").GetBoolean(), published.GetProperty("summary").GetString());
        Assert.StartsWith("Normal (score ", published.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Contains("temperature at ", published.GetProperty("summary").GetString(), StringComparison.Ordinal);

        string id = alert.GetProperty("id").GetString()!;
        using var response = await monitor.Http.GetAsync(new Uri($"/api/alerts/{Uri.EscapeDataString(id)}/counterfactual", UriKind.Relative), cancel.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancel.Token));
        var doc = document.RootElement;
        var counterfactual = doc.GetProperty("counterfactual");
        Assert.Equal(published.GetRawText(), counterfactual.GetRawText());
        Assert.Equal(["pressure", "temperature", "torque"], doc.GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
        double closeLevel = counterfactual.GetProperty("closeLevel").GetDouble();
        Assert.Equal(0.3, closeLevel, 6); // threshold 0.5 - the default hysteresis 0.2

        // The received window is what was published: the 50 samples up to the window's end, 100 ms apart.
        var received = Rows(doc.GetProperty("received"));
        var changed = Rows(doc.GetProperty("window"));
        int length = received[0].Length;
        var end = doc.GetProperty("windowEnd").GetDateTimeOffset();
        Assert.Equal(end, counterfactual.GetProperty("windowEnd").GetDateTimeOffset());
        Assert.Equal(doc.GetProperty("windowStart").GetDateTimeOffset(), counterfactual.GetProperty("windowStart").GetDateTimeOffset());
        for (int t = 0; t < length; t++)
        {
            var values = sent[end.AddMilliseconds(-100 * (length - 1 - t))];
            for (int c = 0; c < 3; c++)
            {
                Assert.Equal((float)values[c], received[c][t]);
            }
        }

        // Applying the listed changes to the received window gives the changed window, and nothing else differs.
        var changes = counterfactual.GetProperty("changes").EnumerateArray().ToList();
        Assert.InRange(changes.Count, 1, counterfactual.GetProperty("maxCells").GetInt32());
        var applied = received.Select(r => r.ToArray()).ToArray();
        foreach (var change in changes)
        {
            int c = Array.IndexOf(Channels, change.GetProperty("channel").GetString());
            int step = change.GetProperty("step").GetInt32();
            Assert.Equal(received[c][step], change.GetProperty("from").GetSingle());
            applied[c][step] = change.GetProperty("to").GetSingle();
            Assert.NotEqual(received[c][step], applied[c][step]);
            Assert.Equal(end.AddMilliseconds(-100 * (length - 1 - step)), change.GetProperty("time").GetDateTimeOffset());
            // It sets back the spike itself, not some other cell the model happens to be sensitive to.
            Assert.Equal("temperature", change.GetProperty("channel").GetString());
            Assert.Contains(change.GetProperty("time").GetDateTimeOffset(), spikeTimes);
            Assert.InRange(applied[c][step], 59.7f, 60.3f); // back within the channel's usual values (60 +- 0.2)
        }

        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(applied[c], changed[c]);
        }

        // Rescored independently: ONNX Runtime on the shipped file, z-scored here.
        using var session = new InferenceSession(RepositoryPaths.AnomalyModel);
        float before = Score(session, received), after = Score(session, applied);
        Assert.True(before >= 0.5, $"the received window scored {before}");
        Assert.True(after < closeLevel, $"the counterfactual window scored {after}, not below {closeLevel}");
        Assert.Equal(after, counterfactual.GetProperty("scoreAfter").GetSingle(), 5);

        var metrics = await monitor.MetricsAsync(cancel.Token);
        Assert.True(LiveTestMonitor.Metric(metrics, "tsviz_counterfactuals_total{outcome=\"found\"}") >= 1);
        Assert.Equal(0, LiveTestMonitor.Metric(metrics, "tsviz_counterfactuals_total{outcome=\"failed\"}"));

        using var unknown = await monitor.Http.GetAsync(new Uri("/api/alerts/nope/counterfactual", UriKind.Relative), cancel.Token);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        // The alert also says whether its kind of fault was seen before: the first of its pattern here, in MQTT and the API.
        var pattern = alert.GetProperty("pattern");
        Assert.Equal("First time this pattern is seen.", pattern.GetProperty("summary").GetString());
        Assert.Equal(1, pattern.GetProperty("occurrences").GetInt32());
        JsonElement stored = default;
        await LiveTestMonitor.Until(() =>
        {
            using var answer = monitor.Http.GetAsync(new Uri($"/api/alerts/{Uri.EscapeDataString(id)}/pattern", UriKind.Relative), cancel.Token).GetAwaiter().GetResult();
            if (answer.StatusCode != HttpStatusCode.OK)
            {
                return false;
            }

            stored = JsonDocument.Parse(answer.Content.ReadAsStringAsync(cancel.Token).GetAwaiter().GetResult()).RootElement.Clone();
            return true;
        }, cancel.Token);
        Assert.Equal(pattern.GetProperty("id").GetString(), stored.GetProperty("id").GetString());
        Assert.Equal(["line1/m1"], stored.GetProperty("machines").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public async Task Requests_ANewerPeakReplacesTheAlertsWaitingOne_AndPastTheLimitTheOldestIsDroppedAndCounted()
    {
        var registry = Metrics.NewCustomRegistry();
        using var board = Board(new List<LiveResult>(), registry, maxPending: 2);
        board.Request(Request("a1", "w1"));
        board.Request(Request("a2", "w1"));
        board.Request(Request("a1", "w2")); // a1's newer peak, in a1's place
        Assert.Equal(2, board.Pending);
        board.Request(Request("a3", "w1")); // one too many: a1 (the oldest) goes
        Assert.Equal(2, board.Pending);

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(("a2", "w1"), Key(await board.NextAsync(cancel.Token)));
        Assert.Equal(("a3", "w1"), Key(await board.NextAsync(cancel.Token)));
        Assert.Equal(0, board.Pending);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => board.NextAsync(new CancellationTokenSource(TimeSpan.FromMilliseconds(200)).Token));
        Assert.Equal(1, await Counted(registry, "dropped"));
    }

    [Fact]
    public async Task Results_AreRepublishedOnlyForTheAlertsCurrentPeak_AndLaterStatesOfThatPeakCarryThem()
    {
        var sent = new List<LiveResult>();
        using var board = Board(sent, Metrics.NewCustomRegistry(), maxPending: 8);
        await board.PublishAlertAsync(Alert("a1", "w1", "open"), CancellationToken.None);
        await board.PublishAlertAsync(Alert("a1", "w2", "open"), CancellationToken.None); // the peak rose

        // The first peak's result arrives late: stored for the alert, not published over the newer peak.
        Assert.False(await board.CompleteAsync("m1", "a1", Counterfactual("w1"), CancellationToken.None));
        Assert.Equal(2, sent.Count);

        Assert.True(await board.CompleteAsync("m1", "a1", Counterfactual("w2"), CancellationToken.None));
        Assert.Equal("w2", sent[^1].Alert!.Counterfactual!.PeakWindowId);
        Assert.True(sent[^1].Retain);

        // The episode closes at that peak: the closing state carries it, in the retained JSON too.
        await board.PublishAlertAsync(Alert("a1", "w2", "closed"), CancellationToken.None);
        Assert.Equal("w2", sent[^1].Alert!.Counterfactual!.PeakWindowId);
        using var json = JsonDocument.Parse(sent[^1].Json);
        Assert.Equal("closed", json.RootElement.GetProperty("status").GetString());
        Assert.True(json.RootElement.GetProperty("counterfactual").GetProperty("found").GetBoolean());

        // Another machine's result for an alert it does not show publishes nothing.
        Assert.False(await board.CompleteAsync("m2", "a1", Counterfactual("w2"), CancellationToken.None));
        Assert.Equal(4, sent.Count);
    }

    [Fact]
    public void Summary_SaysWhatWouldHaveMadeTheWindowNormal_InPlainWords()
    {
        var t = new DateTimeOffset(2026, 12, 4, 15, 0, 12, 300, TimeSpan.Zero);
        string text = CounterfactualWorker.Summary(
            true, [new CounterfactualChangeMessage("temperature", 31, t, 86.1f, 80.4f), new CounterfactualChangeMessage("temperature", 32, t.AddMilliseconds(100), 85.9f, 80.45f)],
            0.27f, 0.3, 7, 150, null);
        Assert.Equal("Normal (score 0.270, below the close level 0.3) if temperature at 15:00:12.300 UTC had been 80.4 instead of 86.1 and temperature at 15:00:12.400 UTC had been 80.45 instead of 85.9.", text);
        Assert.Equal(
            "No counterfactual within the budget (7 of the window's 150 values, close level 0.3): the budget was spent.",
            CounterfactualWorker.Summary(false, [], 0.6f, 0.3, 7, 150, "the budget was spent"));
    }

    private static (string, string) Key(CounterfactualRequest r) => (r.AlertId, r.PeakWindowId);

    private static CounterfactualRequest Request(string alert, string peak)
        => new(alert, "m1", peak, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(5), new float[150], 0.3);

    private static AlertMessage Alert(string id, string peak, string status)
        => new(id, "m1", status, DateTimeOffset.UnixEpoch, null, 0.99, peak, 1, "anomaly-cnn 1.0.0", "temperature", new Dictionary<string, float>(), []);

    private static CounterfactualMessage Counterfactual(string peak)
        => new(peak, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(5), true, 0.3, 0.99f, 0.2f, [new CounterfactualChangeMessage("temperature", 3, DateTimeOffset.UnixEpoch, 90, 80)], "Normal", null, 7, DateTimeOffset.UnixEpoch, 1);

    private static AlertCounterfactuals Board(List<LiveResult> sent, CollectorRegistry registry, int maxPending)
        => new([new CapturingSink(sent)], Options.Create(new MonitorOptions { Counterfactual = new CounterfactualSettings { MaxPending = maxPending } }), registry,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<AlertCounterfactuals>.Instance);

    private static async Task<double> Counted(CollectorRegistry registry, string outcome)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return LiveTestMonitor.Metric(System.Text.Encoding.UTF8.GetString(stream.ToArray()), $"tsviz_counterfactuals_total{{outcome=\"{outcome}\"}}") ?? -1;
    }

    private static float[][] Rows(JsonElement rows) => [.. rows.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray())];

    /// <summary>The model's score of one window: each channel z-scored (population std), then the ONNX session.</summary>
    private static float Score(InferenceSession session, float[][] window)
    {
        int channels = window.Length, length = window[0].Length;
        var input = new DenseTensor<float>([1, channels, length]);
        for (int c = 0; c < channels; c++)
        {
            double mean = window[c].Average(v => (double)v);
            double std = Math.Sqrt(window[c].Average(v => (v - mean) * (v - mean)));
            for (int t = 0; t < length; t++)
            {
                input[0, c, t] = (float)((window[c][t] - mean) / Math.Max(std, 1e-6));
            }
        }

        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.First(), input)]);
        return results.First(r => r.Name == "score").AsTensor<float>()[0];
    }

    private sealed class CapturingSink(List<LiveResult> sent) : IResultSink
    {
        public Task PublishAsync(LiveResult result, CancellationToken cancellationToken)
        {
            lock (sent)
            {
                sent.Add(result);
            }

            return Task.CompletedTask;
        }
    }
}
