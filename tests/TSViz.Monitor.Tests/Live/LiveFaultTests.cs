using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TSViz.Monitor.Live;
using TSViz.Plugins.History;
using TSViz.Plugins.Ingest;

namespace TSViz.Monitor.Tests.Live;

/// <summary>No input can stop a stage of the live path; a stage that stops anyway is never silent.</summary>
public sealed class LiveFaultTests
{
    private const int Hop = 10;

    [Fact]
    public async Task Run_PoisonPayloadsBesideAGoodStream_EachIsDeadLetteredAndEveryWindowIsPublished()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token);
        int length = monitor.WindowLength;
        const int Samples = 300;
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
        string ts = start.ToString("O", CultureInfo.InvariantCulture);
        var poison = new List<byte[]>
        {
            // The lone low surrogate that made System.Text.Json throw InvalidOperationException and stopped ingestion.
            Encoding.UTF8.GetBytes("""{"ts":"\uDC00","pressure":1,"temperature":2,"torque":3}"""),
            Encoding.UTF8.GetBytes("""{"ts":"\uD800\uD800","pressure":1,"temperature":2,"torque":3}"""),
            new byte[] { 0xC3, 0x28, 0xFF, 0xFE, 0x7B, 0x22 },
            Encoding.UTF8.GetBytes(new string('[', 5000) + new string(']', 5000)),
            Encoding.UTF8.GetBytes($$"""{"ts":"{{ts}}","pressure":1e400,"temperature":2,"torque":3}"""),
            Encoding.UTF8.GetBytes("""{"ts":99999999999999999999999,"pressure":1,"temperature":2,"torque":3}"""),
            Encoding.UTF8.GetBytes("""{"ts":-62135596800001,"pressure":1,"temperature":2,"torque":3}"""),
            Encoding.UTF8.GetBytes($$"""{"ts":"{{ts}}","pressure":1,"pressure":2,"temperature":2,"torque":3}"""),
            Encoding.UTF8.GetBytes("""{"samples":{"ts":1}}"""),
            Array.Empty<byte>(),
            new byte[] { 0, 0, 0, 0, 1, 2, 3 },
        };

        var machineTopic = "plant/line1/m1/telemetry";
        for (int i = 0; i < Samples; i++)
        {
            await monitor.PublishAsync(machineTopic, LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i), cancel.Token);
            if (i % 20 == 5 && i / 20 < poison.Count)
            {
                await monitor.PublishAsync("plant/line1/m9/telemetry", poison[i / 20], cancel.Token);
            }

            if (i == 150)
            {
                // One sample of m1 stamped 23 h ahead: refused, and m1's later samples are not dropped because of it.
                await monitor.PublishAsync(machineTopic, LiveTestMonitor.SampleJson(DateTimeOffset.UtcNow.AddHours(23), i), cancel.Token);
            }
        }

        int expected = ((Samples - length) / Hop) + 1;
        await LiveTestMonitor.Until(() => monitor.On("/m1/explanation").Count >= expected && monitor.On("/deadletter").Count >= poison.Count + 1, cancel.Token);
        await Task.Delay(500, cancel.Token);

        Assert.Equal(expected, monitor.On("/m1/explanation").Count);
        var letters = monitor.On("/deadletter");
        Assert.Equal(poison.Count + 1, letters.Count);
        Assert.All(letters, l => Assert.False(string.IsNullOrEmpty(l.GetProperty("detail").GetString())));
        Assert.Contains(letters, l => l.GetProperty("reason").GetString() == "future_timestamp" && l.GetProperty("topic").GetString() == machineTopic);
        Assert.DoesNotContain(letters, l => l.GetProperty("reason").GetString() is "decoder_failure" or "ingest_failure");

        using var health = await monitor.Http.GetAsync(new Uri("/health", UriKind.Relative), cancel.Token);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        string metrics = await monitor.MetricsAsync(cancel.Token);
        Assert.Equal(1, LiveTestMonitor.Metric(metrics, "tsviz_machine_messages_rejected_total{machine=\"line1/m1\",reason=\"future_timestamp\"}"));
        Assert.Null(LiveTestMonitor.Metric(metrics, "tsviz_samples_dropped_total{reason=\"out_of_order\"}"));
    }

    [Fact]
    public async Task Run_DecoderThrows_MessageIsDeadLetteredAsDecoderFailureAndTheStreamGoesOn()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, services: s => s.AddSingleton<ISampleDecoder>(sp =>
            new ThrowingDecoder(new JsonTelemetryDecoder(
                new JsonDecoderSettings { Channels = sp.GetRequiredService<LiveModel>().Metadata.Channels }, TimeProvider.System))));
        int length = monitor.WindowLength;
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
        int samples = length + (3 * Hop);
        for (int i = 0; i < samples; i++)
        {
            await monitor.PublishAsync("plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i), cancel.Token);
            if (i == 10)
            {
                await monitor.PublishAsync("plant/line1/m1/telemetry", "boom", cancel.Token);
            }
        }

        await LiveTestMonitor.Until(() => monitor.On("/m1/explanation").Count >= 4 && monitor.On("/deadletter").Count >= 1, cancel.Token);
        var letter = Assert.Single(monitor.On("/deadletter"));
        Assert.Equal("decoder_failure", letter.GetProperty("reason").GetString());
        Assert.Contains(nameof(InvalidOperationException), letter.GetProperty("detail").GetString(), StringComparison.Ordinal);
        string metrics = await monitor.MetricsAsync(cancel.Token);
        Assert.Equal(1, LiveTestMonitor.Metric(metrics, "tsviz_messages_rejected_total{reason=\"decoder_failure\"}"));
    }

    [Fact]
    public async Task Run_ExplainerThrows_WindowsArePublishedAndStoredWithTheirScoreAndReason()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var monitor = await LiveTestMonitor.StartAsync(cancel.Token, services: s => s.AddSingleton<ILiveExplainer, FailingExplainer>());
        int length = monitor.WindowLength;
        var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
        for (int i = 0; i < length + Hop; i++)
        {
            await monitor.PublishAsync("plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i), cancel.Token);
        }

        await LiveTestMonitor.Until(() => monitor.On("/m1/explanation").Count >= 2, cancel.Token);
        foreach (var message in monitor.On("/m1/explanation"))
        {
            Assert.Equal("explanation_failed", message.GetProperty("reasonCode").GetString());
            Assert.InRange(message.GetProperty("score").GetSingle(), 0f, 1f);
            Assert.Contains("libtorch is gone", message.GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        var store = monitor.App.Services.GetRequiredService<IHistoryStore>();
        Page<WindowRecord> stored = new([], null);
        await LiveTestMonitor.Until(() =>
        {
            stored = store.QueryWindowsAsync(new WindowQuery { Machine = "line1/m1" }, cancel.Token).GetAwaiter().GetResult();
            return stored.Items.Count >= 2;
        }, cancel.Token);
        Assert.All(stored.Items, w => Assert.Equal("explanation_failed", w.ReasonCode));
        Assert.All(stored.Items, w => Assert.NotNull(w.Score));
        string metrics = await monitor.MetricsAsync(cancel.Token);
        Assert.Equal(2, LiveTestMonitor.Metric(metrics, "tsviz_explanations_failed_total"));
    }

    [Fact]
    public async Task Run_StageStopsMoving_HealthTurns503AndTheWatchdogStopsTheMonitorWithExitCode70()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var hang = new ManualResetEventSlim();
        await using var monitor = await LiveTestMonitor.StartAsync(
            cancel.Token,
            new Dictionary<string, string?> { ["Monitor:Health:StallSeconds"] = "1", ["Monitor:Health:ExitAfterStallSeconds"] = "4" },
            s => s.AddSingleton<ISampleDecoder>(new HangingDecoder(hang)));
        try
        {
            var lifetime = monitor.App.Services.GetRequiredService<IHostApplicationLifetime>();
            var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
            await monitor.PublishAsync("plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(start, 0), cancel.Token);
            await monitor.PublishAsync("plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100), 1), cancel.Token);

            JsonElement body = default;
            await LiveTestMonitor.Until(() =>
            {
                using var response = monitor.Http.GetAsync(new Uri("/health", UriKind.Relative), cancel.Token).GetAwaiter().GetResult();
                body = JsonDocument.Parse(response.Content.ReadAsStringAsync(cancel.Token).GetAwaiter().GetResult()).RootElement.Clone();
                return response.StatusCode == HttpStatusCode.ServiceUnavailable;
            }, cancel.Token);
            var ingest = body.GetProperty("stages").GetProperty("ingest");
            Assert.Equal("stalled", ingest.GetProperty("state").GetString());
            Assert.True(ingest.GetProperty("waiting").GetInt32() >= 1);
            Assert.Equal("connected", body.GetProperty("broker").GetString());
            var stagesCheck = body.GetProperty("checks").GetProperty("stages");
            Assert.Equal("unhealthy", stagesCheck.GetProperty("status").GetString());
            Assert.Contains("ingest stalled", stagesCheck.GetProperty("description").GetString(), StringComparison.Ordinal);
            Assert.Equal("healthy", body.GetProperty("checks").GetProperty("broker").GetProperty("status").GetString());

            await LiveTestMonitor.Until(() => lifetime.ApplicationStopping.IsCancellationRequested, cancel.Token);
            Assert.Equal(HealthWatchdog.FailedExitCode, monitor.App.Services.GetRequiredService<HealthWatchdog>().ExitCode);
        }
        finally
        {
            hang.Set();
        }
    }

    [Fact]
    public async Task Run_StageStuckAndQos0Flood_IngestQueueStaysBoundedAndShutdownEndsAfterTheGracePeriod()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var hang = new ManualResetEventSlim();
        await using var monitor = await LiveTestMonitor.StartAsync(
            cancel.Token,
            new Dictionary<string, string?>
            {
                ["Monitor:Mqtt:ReceiveMaximum"] = "10",
                ["Monitor:IngestCapacity"] = "20",
                ["Monitor:Health:ShutdownGraceSeconds"] = "2",
                ["Monitor:Health:ExitAfterStallSeconds"] = "600",
            },
            s => s.AddSingleton<ISampleDecoder>(new HangingDecoder(hang)));
        try
        {
            // The decoder never returns: QoS 0 input beyond the ingest queue is dropped and counted, not held without bound.
            var start = LiveTestMonitor.WholeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10));
            for (int i = 0; i < 200; i++)
            {
                await monitor.PublishAtMostOnceAsync("plant/line1/m1/telemetry", LiveTestMonitor.SampleJson(start.AddMilliseconds(100 * i), i), cancel.Token);
            }

            double? dropped = null;
            await LiveTestMonitor.Until(() =>
            {
                dropped = LiveTestMonitor.Metric(monitor.MetricsAsync(cancel.Token).GetAwaiter().GetResult(), "tsviz_messages_dropped_total{reason=\"ingest_queue_full\"}");
                return dropped >= 200 - (2 * 20); // held: the ingest queue and the group taken from it, IngestCapacity each
            }, cancel.Token, () => $"dropped {dropped}");

            // SIGTERM-like stop with a stage that never lets go: the host gives up on it after the grace period.
            var stopping = monitor.StopAsync();
            var finished = await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(30), cancel.Token));
            Assert.Same(stopping, finished);
        }
        finally
        {
            hang.Set();
        }
    }

    /// <summary>Throws for the payload "boom"; decodes everything else as the built-in decoder does.</summary>
    private sealed class ThrowingDecoder(ISampleDecoder inner) : ISampleDecoder
    {
        public DecodeResult Decode(string topic, ReadOnlySpan<byte> payload)
            => payload.SequenceEqual("boom"u8) ? throw new InvalidOperationException("the gateway's format changed") : inner.Decode(topic, payload);
    }

    /// <summary>Never returns until released: a stage stuck in a call that does not come back.</summary>
    private sealed class HangingDecoder(ManualResetEventSlim release) : ISampleDecoder
    {
        public DecodeResult Decode(string topic, ReadOnlySpan<byte> payload)
        {
            release.Wait();
            return DecodeResult.Rejected(RejectionReason.EmptyBatch, "released");
        }
    }

    private sealed class FailingExplainer : ILiveExplainer
    {
        public Task<LiveExplanation[]> ExplainAsync(float[] windows, int count, bool[] alerting, CancellationToken cancellationToken)
            => throw new InvalidOperationException("libtorch is gone");
    }
}
