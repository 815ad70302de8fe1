using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TSViz.Explain.Attribution;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Monitor.Web;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Tests.Web;

/// <summary>
/// The web view's and API's on-demand explanations on their own explainer, within Interactive:MaxConcurrent 1 and
/// MaxQueued 0: refused with 429 and Retry-After when full, the live path unaffected, the results the live explainer's.
/// </summary>
public sealed class InteractiveExplainerTests(InteractiveMonitorFixture fixture) : IClassFixture<InteractiveMonitorFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Endpoints_WhenTheInteractiveLimitIsFull_Answer429WithRetryAfterAndWhy()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var monitor = fixture.Monitor;
        var interactive = monitor.Services.GetRequiredService<InteractiveExplainer>();
        string[] paths = await OnDemandPathsAsync(monitor, cancel.Token);

        using (var held = await interactive.TryTakeAsync(cancel.Token))
        {
            Assert.NotNull(held);
            foreach (string path in paths)
            {
                using var response = await monitor.Http.GetAsync(new Uri(path, UriKind.Relative), cancel.Token);
                string body = await response.Content.ReadAsStringAsync(cancel.Token);
                Assert.True(response.StatusCode == HttpStatusCode.TooManyRequests, $"{path}: {response.StatusCode} {body}");
                Assert.Equal(TimeSpan.FromSeconds(InteractiveMonitorFixture.RetryAfterSeconds), response.Headers.RetryAfter?.Delta);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                var problem = JsonDocument.Parse(body).RootElement;
                Assert.Equal(429, problem.GetProperty("status").GetInt32());
                Assert.Equal("interactive_limit", problem.GetProperty("reason").GetString());
                Assert.Contains("Monitor:Interactive:MaxConcurrent", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }

            // A bad parameter is still named: it needs no turn.
            using var bad = await monitor.Http.GetAsync(new Uri($"/api/windows/{await monitor.PeakWindowAsync(cancel.Token)}/trace?layer=conv9&filter=0&step=0", UriKind.Relative), cancel.Token);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        // Given back, every endpoint answers again (a refused inversion was not kept as a result).
        foreach (string path in paths)
        {
            await monitor.GetAsync(path, cancel.Token);
        }

        string metrics = await monitor.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancel.Token);
        Assert.Contains("tsviz_interactive_requests_total{outcome=\"refused\"}", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LivePath_WhileTheInteractiveLimitIsFull_KeepsPublishing()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var monitor = fixture.Monitor;
        var interactive = monitor.Services.GetRequiredService<InteractiveExplainer>();
        string influence = (await OnDemandPathsAsync(monitor, cancel.Token))[0];

        using var held = await interactive.TryTakeAsync(cancel.Token);
        Assert.NotNull(held);
        string newest = await NewestWindowAsync(monitor, cancel.Token);
        for (int published = 0; published < 3;)
        {
            // Interactive work stays saturated: every request is refused ...
            using (var response = await monitor.Http.GetAsync(new Uri(influence, UriKind.Relative), cancel.Token))
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            }

            // ... while the live path goes on explaining, publishing and storing new windows.
            string now = await NewestWindowAsync(monitor, cancel.Token);
            if (now != newest)
            {
                published++;
                newest = now;
            }

            await Task.Delay(100, cancel.Token);
        }
    }

    [Fact]
    public async Task Endpoints_WhileTheLiveExplainerIsHeld_AnswerWithTheLiveExplainersResults()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var monitor = fixture.Monitor;
        var model = monitor.Services.GetRequiredService<LiveModel>();
        var store = monitor.Services.GetRequiredService<IHistoryStore>();
        string window = await monitor.PeakWindowAsync(cancel.Token);
        var input = (await store.GetWindowAsync(Uri.UnescapeDataString(window), cancel.Token))!.Detail!.Input;
        string alert = Uri.EscapeDataString(monitor.AlertId);

        JsonElement influence, trace, adversarial;
        WindowExplanation explained;
        ActivationTraceResult traced;
        FilterSaliencyMap filterSaliency;
        Explain.Robustness.RobustnessResult attacked;
        // The live path waits while the test holds its explainer; the interactive endpoints must not (if they took
        // this lock they would never answer and the test would time out).
        using (await model.TakeExplainerAsync(cancel.Token))
        {
            influence = await monitor.GetAsync($"/api/windows/{window}/influence", cancel.Token);
            trace = await monitor.GetAsync($"/api/windows/{window}/trace?layer=conv2&filter=3&step=10", cancel.Token);
            adversarial = await monitor.GetAsync($"/api/alerts/{alert}/adversarial?eps=0.1", cancel.Token);
            explained = model.Explainer.Explain(input, 1, new ExplainOptions { IncludeReceivedSaliency = false, IncludeActivations = true })[0];
            traced = model.Explainer.Trace(input, "conv2", 3, 10);
            filterSaliency = model.Explainer.FilterSaliency(input, 1, new Dictionary<string, int[]> { ["conv2"] = [3] })[0][0];
        }

        // The endpoint attacks the alert's peak as it stands when asked: under load a batch already explained can be
        // stored between reading the peak above and that request, and move the peak to a later window (seen: both
        // saturated at score 1 before the attack, 0.997 and 1 after). Compare on the window the endpoint names.
        string attackedId = adversarial.GetProperty("windowId").GetString()!;
        var attackedInput = attackedId == Uri.UnescapeDataString(window) ? input : (await store.GetWindowAsync(attackedId, cancel.Token))!.Detail!.Input;
        using (await model.TakeExplainerAsync(cancel.Token))
        {
            attacked = model.Explainer.Fgsm(attackedInput, 1, 0.1)[0];
        }

        // Faithful: what the interactive explainer answered is what the live explainer computes on the same weights,
        // value for value within 1e-5 (the two run with different libtorch thread counts, so sums may be ordered
        // differently in the last bits; the parity standard of the explanation tests).
        Close([explained.Score], [influence.GetProperty("score").GetSingle()]);
        Close(explained.Saliency, Flat(influence.GetProperty("saliency")));
        for (int l = 0; l < explained.Layers.Count; l++)
        {
            var layer = influence.GetProperty("layers")[l];
            Assert.Equal(explained.Layers[l].Name, layer.GetProperty("name").GetString());
            Close(explained.Layers[l].Influence, Floats(layer.GetProperty("influence")));
            Close(explained.Layers[l].Activations!, Flat(layer.GetProperty("activations")));
        }

        Close([traced.Activation], [trace.GetProperty("activation").GetSingle()]);
        Close(filterSaliency.Saliency, Flat(trace.GetProperty("filterSaliency")));
        var points = trace.GetProperty("levels").EnumerateArray().SelectMany(l => l.GetProperty("points").EnumerateArray().Select(p =>
            (Level: l.GetProperty("level").GetString()!, Row: p.GetProperty("row").GetInt32(), Step: p.GetProperty("step").GetInt32(), Weight: p.GetProperty("weight").GetSingle()))).ToList();
        var expectedPoints = traced.Levels.SelectMany(l => l.Points.Select(p => (l.Level, p.Row, p.Step, p.Weight))).ToList();
        Assert.Equal(expectedPoints.Select(p => (p.Level, p.Row, p.Step)), points.Select(p => (p.Level, p.Row, p.Step)));
        Close([.. expectedPoints.Select(p => p.Weight)], [.. points.Select(p => p.Weight)]);

        Close([attacked.ScoreBefore, attacked.ScoreAfter], [adversarial.GetProperty("scoreBefore").GetSingle(), adversarial.GetProperty("scoreAfter").GetSingle()]);
        Close(attacked.AdversarialWindow, Flat(adversarial.GetProperty("adversarialWindow")));
    }

    private static void Close(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"value {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    [Fact]
    public async Task Turn_RunsItsWorkOnAThreadAtTheConfiguredNice()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var interactive = fixture.Monitor.Services.GetRequiredService<InteractiveExplainer>();
        using var turn = await interactive.TryTakeAsync(cancel.Token);
        Assert.NotNull(turn);

        // /proc/thread-self/stat: "tid (name) state ..."; after the name, field 19 (nice) is the 17th.
        var (stat, layers) = await turn.RunAsync(explainer => (File.ReadAllText("/proc/thread-self/stat"), explainer.Layers.Count));
        int nice = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(new MonitorOptions().Interactive.Nice, nice);
        Assert.Equal(3, layers);
    }

    /// <summary>Every endpoint that computes on demand, for the injected alert and its peak window; the inversion at a target no other test asks for.</summary>
    private static async Task<string[]> OnDemandPathsAsync(WebTestMonitor monitor, CancellationToken cancellationToken)
    {
        string window = await monitor.PeakWindowAsync(cancellationToken);
        return
        [
            $"/api/windows/{window}/influence",
            $"/api/windows/{window}/trace?layer=conv1&filter=0&step=0",
            $"/api/alerts/{Uri.EscapeDataString(monitor.AlertId)}/adversarial",
            "/api/model/inversion?target=0.35",
        ];
    }

    private static async Task<string> NewestWindowAsync(WebTestMonitor monitor, CancellationToken cancellationToken)
        => (await monitor.GetAsync("/api/windows?limit=1", cancellationToken)).GetProperty("items")[0].GetProperty("id").GetString()!;

    private static float[] Floats(JsonElement array) => [.. array.EnumerateArray().Select(v => v.GetSingle())];

    private static float[] Flat(JsonElement rows) => [.. rows.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle()))];
}
