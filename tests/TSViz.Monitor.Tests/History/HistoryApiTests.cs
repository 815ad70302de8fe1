using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.History;

/// <summary>The history API on the monitor's real HTTP server, over a real SQLite file the live path fills.</summary>
public sealed class HistoryApiTests
{
    private static string Q(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O", CultureInfo.InvariantCulture));

    [Fact]
    public async Task Api_QueriesWhatTheLivePathStored_ValidatesParameters_AndTakesFeedback()
    {
        int httpPort = Loopback.FreePort();
        int mqttPort = Loopback.FreePort();
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        await using var app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{httpPort}",
            ["Monitor:Mqtt:Port"] = mqttPort.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Mqtt:ClientId"] = $"tsviz-history-{mqttPort}",
            ["Monitor:History:Path"] = database,
            ["Monitor:History:FullExplanationSampleRate"] = "0",
            ["Monitor:Jobs:Enabled"] = "false",
            ["Monitor:Simulator:Machines"] = "2",
            ["Monitor:Simulator:RateHz"] = "50",
            ["Monitor:Simulator:AnomalyEverySeconds"] = "2",
            ["Monitor:Simulator:Seed"] = "11",
        });
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await app.StartAsync(cancel.Token);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            async Task<JsonElement> Get(string path)
            {
                using var response = await http.GetAsync(new Uri(path, UriKind.Relative), cancel.Token);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode} {await response.Content.ReadAsStringAsync(cancel.Token)}");
                return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancel.Token)).RootElement.Clone();
            }

            async Task<string> Problem(string path, HttpStatusCode status)
            {
                using var response = await http.GetAsync(new Uri(path, UriKind.Relative), cancel.Token);
                Assert.Equal(status, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancel.Token)).RootElement;
                return body.GetProperty("parameter").GetString()!;
            }

            // Two alert episodes recorded (their peak windows kept in full).
            JsonElement alerts;
            do
            {
                await Task.Delay(500, cancel.Token);
                alerts = await Get("/api/alerts");
            }
            while (alerts.GetProperty("items").GetArrayLength() < 2);

            // Windows: newest first, paged without overlap, every filter applied.
            var page1 = await Get("/api/windows?machine=line1/m1&limit=5");
            Assert.Equal(5, page1.GetProperty("items").GetArrayLength());
            Assert.All(page1.GetProperty("items").EnumerateArray(), w => Assert.Equal("line1/m1", w.GetProperty("machine").GetString()));
            string cursor = page1.GetProperty("nextCursor").GetString()!;
            var page2 = await Get($"/api/windows?machine=line1/m1&limit=5&cursor={Uri.EscapeDataString(cursor)}");
            var ends1 = page1.GetProperty("items").EnumerateArray().Select(w => w.GetProperty("windowEnd").GetDateTimeOffset()).ToList();
            var ends2 = page2.GetProperty("items").EnumerateArray().Select(w => w.GetProperty("windowEnd").GetDateTimeOffset()).ToList();
            Assert.True(ends1.Min() > ends2.Max());
            Assert.All((await Get("/api/windows?reasonCode=anomaly")).GetProperty("items").EnumerateArray(), w => Assert.True(w.GetProperty("score").GetDouble() >= 0.5));
            Assert.All((await Get("/api/windows?minScore=0.9")).GetProperty("items").EnumerateArray(), w => Assert.True(w.GetProperty("score").GetDouble() >= 0.9));
            Assert.All((await Get("/api/windows?dominantChannel=torque")).GetProperty("items").EnumerateArray(), w => Assert.Equal("torque", w.GetProperty("dominantChannel").GetString()));
            var now = DateTimeOffset.UtcNow;
            Assert.Empty((await Get($"/api/windows?to={Q(now.AddHours(-1))}")).GetProperty("items").EnumerateArray());
            Assert.Empty((await Get($"/api/windows?to={now.AddHours(-1).ToUnixTimeMilliseconds()}")).GetProperty("items").EnumerateArray()); // Grafana's data links
            Assert.NotEmpty((await Get($"/api/alerts?to={now.AddHours(1).ToUnixTimeMilliseconds()}&limit=3")).GetProperty("items").EnumerateArray());
            Assert.NotEmpty((await Get($"/api/windows?from={Q(now.AddHours(-1))}&to={Q(now.AddHours(1))}&hasDetail=true")).GetProperty("items").EnumerateArray());
            Assert.Empty((await Get("/api/windows?machine=" + Uri.EscapeDataString("m1' OR '1'='1"))).GetProperty("items").EnumerateArray());

            // One alert in full: its peak window's explanation and input, then similar past alerts.
            var alert = alerts.GetProperty("items")[0];
            string id = alert.GetProperty("id").GetString()!;
            var detail = await Get($"/api/alerts/{Uri.EscapeDataString(id)}");
            var peak = detail.GetProperty("peakWindow");
            // The alert is live: its peak may have moved since the list was read, so the detail is checked against itself.
            Assert.Equal(detail.GetProperty("alert").GetProperty("peakWindowId").GetString(), peak.GetProperty("id").GetString());
            Assert.Equal(3, peak.GetProperty("explanation").GetProperty("saliency").GetArrayLength());
            Assert.Equal(3, peak.GetProperty("input").GetArrayLength());
            Assert.Equal(id, peak.GetProperty("alertId").GetString());
            var similar = await Get($"/api/alerts/{Uri.EscapeDataString(id)}/similar?limit=5");
            Assert.NotEmpty(similar.EnumerateArray());
            Assert.All(similar.EnumerateArray(), s => Assert.NotEqual(id, s.GetProperty("alert").GetProperty("id").GetString()));

            // Feedback round trip, and its validation.
            using (var created = await http.PostAsJsonAsync(new Uri($"/api/alerts/{Uri.EscapeDataString(id)}/feedback", UriKind.Relative),
                new { kind = "false_alarm", comment = "valve maintenance" }, cancel.Token))
            {
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            }

            var feedback = await Get($"/api/alerts/{Uri.EscapeDataString(id)}/feedback");
            Assert.Equal("false_alarm", feedback[0].GetProperty("kind").GetString());
            // Authentication is off on loopback: the author is the anonymous identity, never a name the client sends.
            Assert.Equal(("anonymous", "admin", "none"), (feedback[0].GetProperty("author").GetString(), feedback[0].GetProperty("authorRole").GetString(), feedback[0].GetProperty("authorMethod").GetString()));
            Assert.Equal("valve maintenance", (await Get($"/api/alerts/{Uri.EscapeDataString(id)}")).GetProperty("feedback")[0].GetProperty("comment").GetString());
            using (var bad = await http.PostAsJsonAsync(new Uri($"/api/alerts/{Uri.EscapeDataString(id)}/feedback", UriKind.Relative), new { kind = "maybe" }, cancel.Token))
            {
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
                Assert.Equal("kind", JsonDocument.Parse(await bad.Content.ReadAsStringAsync(cancel.Token)).RootElement.GetProperty("parameter").GetString());
            }

            using (var anonymous = await http.PostAsJsonAsync(new Uri($"/api/alerts/{Uri.EscapeDataString(id)}/feedback", UriKind.Relative), new { kind = "confirm", author = "someone.else" }, cancel.Token))
            {
                Assert.Equal("author", JsonDocument.Parse(await anonymous.Content.ReadAsStringAsync(cancel.Token)).RootElement.GetProperty("parameter").GetString());
            }

            using (var missing = await http.PostAsJsonAsync(new Uri("/api/alerts/nope/feedback", UriKind.Relative), new { kind = "confirm" }, cancel.Token))
            {
                Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            }

            // Every bad parameter is named.
            Assert.Equal("from", await Problem("/api/windows?from=yesterday", HttpStatusCode.BadRequest));
            Assert.Equal("from", await Problem($"/api/windows?from={Q(now)}&to={Q(now.AddHours(-1))}", HttpStatusCode.BadRequest));
            Assert.Equal("limit", await Problem("/api/windows?limit=0", HttpStatusCode.BadRequest));
            Assert.Equal("minScore", await Problem("/api/alerts?minScore=2", HttpStatusCode.BadRequest));
            Assert.Equal("reasonCode", await Problem("/api/windows?reasonCode=odd", HttpStatusCode.BadRequest));
            Assert.Equal("status", await Problem("/api/alerts?status=sleeping", HttpStatusCode.BadRequest));
            Assert.Equal("cursor", await Problem("/api/windows?cursor=abc", HttpStatusCode.BadRequest));
            Assert.Equal("hasDetail", await Problem("/api/windows?hasDetail=yes", HttpStatusCode.BadRequest));
            Assert.Equal("machine", await Problem("/api/aggregates/channel-contributions", HttpStatusCode.BadRequest));
            Assert.Equal("id", await Problem("/api/windows/nope", HttpStatusCode.NotFound));

            // The explorer's on-demand endpoints name theirs too (an alert's peak window keeps its input).
            string peakWindow = Uri.EscapeDataString(alerts.GetProperty("items")[0].GetProperty("peakWindowId").GetString()!);
            Assert.Equal("layer", await Problem($"/api/windows/{peakWindow}/trace?layer=conv9&filter=0&step=0", HttpStatusCode.BadRequest));
            Assert.Equal("filter", await Problem($"/api/windows/{peakWindow}/trace?layer=conv1&filter=16&step=0", HttpStatusCode.BadRequest));
            Assert.Equal("filter", await Problem($"/api/windows/{peakWindow}/trace?layer=conv1&filter=-1&step=0", HttpStatusCode.BadRequest));
            Assert.Equal("step", await Problem($"/api/windows/{peakWindow}/trace?layer=conv3&filter=0&step=9", HttpStatusCode.BadRequest));
            Assert.Equal("step", await Problem($"/api/windows/{peakWindow}/trace?layer=conv3&filter=0", HttpStatusCode.BadRequest));
            Assert.Equal("id", await Problem("/api/windows/nope/trace?layer=conv3&filter=0&step=0", HttpStatusCode.NotFound));
            Assert.Equal("id", await Problem("/api/windows/nope/influence", HttpStatusCode.NotFound));
            Assert.Equal("target", await Problem("/api/model/inversion?target=2", HttpStatusCode.BadRequest));
            Assert.Equal("target", await Problem("/api/model/inversion?target=NaN", HttpStatusCode.BadRequest));
            Assert.Equal("layer", await Problem($"/api/windows/{peakWindow}/trace?filter=0&step=0", HttpStatusCode.BadRequest));
            Assert.Equal("filter", await Problem($"/api/windows/{peakWindow}/trace?layer=conv1&filter=x&step=0", HttpStatusCode.BadRequest));
            Assert.Equal("limit", await Problem("/api/analyses?limit=0", HttpStatusCode.BadRequest));
            Assert.Equal("eps", await Problem($"/api/alerts/{Uri.EscapeDataString(alerts.GetProperty("items")[0].GetProperty("id").GetString()!)}/adversarial?eps=0", HttpStatusCode.BadRequest));
            Assert.Equal("id", await Problem("/api/alerts/nope/adversarial", HttpStatusCode.NotFound));
            var trace = await Get($"/api/windows/{peakWindow}/trace?layer=conv3&filter=0&step=8");
            Assert.Equal(["conv2", "conv1", "input"], trace.GetProperty("levels").EnumerateArray().Select(l => l.GetProperty("level").GetString()));
            var explored = await Get($"/api/windows/{peakWindow}/influence");
            Assert.Equal(64, explored.GetProperty("layers")[2].GetProperty("activations").GetArrayLength());
            Assert.Equal(9, explored.GetProperty("layers")[2].GetProperty("activations")[0].GetArrayLength());

            // Aggregates.
            var perHour = await Get("/api/aggregates/alerts-per-hour");
            Assert.True(perHour.EnumerateArray().Sum(h => h.GetProperty("alerts").GetInt32()) >= 2);
            var shares = await Get("/api/aggregates/channel-contributions?machine=line1/m1&bucketMinutes=1");
            Assert.Contains(shares.EnumerateArray(), c => c.GetProperty("channel").GetString() == "temperature");
            var filters = await Get("/api/aggregates/top-filters?limit=3");
            Assert.Equal(3, filters.GetArrayLength());
            Assert.True(filters[0].GetProperty("windows").GetInt32() >= filters[2].GetProperty("windows").GetInt32());

            // The OpenAPI document lists the API.
            var openApi = await Get("/openapi/v1.json");
            var paths = openApi.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
            Assert.Contains("/api/windows", paths);
            Assert.Contains("/api/alerts/{id}/feedback", paths);
            Assert.Contains("/api/aggregates/top-filters", paths);
            Assert.Contains("/api/windows/{id}/trace", paths);
            Assert.Contains("/api/model/inversion", paths);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task HistoryVerb_ReadsTheFile_FiltersAndNamesBadInput()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        var store = new TSViz.Plugins.History.Sqlite.SqliteHistoryStore(database);
        await store.InitializeAsync(CancellationToken.None);
        var t0 = new DateTimeOffset(2026, 11, 25, 22, 0, 0, TimeSpan.Zero);
        await store.WriteWindowsAsync(Enumerable.Range(0, 6).Select(i => new TSViz.Plugins.History.WindowRecord
        {
            Id = $"m{i % 2}:{i}",
            Machine = $"m{i % 2}",
            ModelVersion = "anomaly-cnn 1.0.0",
            WindowEnd = t0.AddMinutes(i),
            Score = i / 10f,
            Decision = false,
            ReasonCode = "normal",
            DominantChannel = "torque",
        }).ToList(), CancellationToken.None);

        var (exit, output, _) = await Cli.VerbRunner.Run("history", "windows", "--db", database, "--machine", "m1", "--from", "2026-11-25T22:02:00Z");
        Assert.Equal(0, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["m1:5", "m1:3"], lines.Select(l => l.GetProperty("id").GetString()));

        var (badExit, _, error) = await Cli.VerbRunner.Run("history", "windows", "--db", database, "--from", "last night");
        Assert.Equal(2, badExit);
        Assert.Contains("--from", error, StringComparison.Ordinal);
        var (reasonExit, _, reasonError) = await Cli.VerbRunner.Run("history", "windows", "--db", database, "--reason", "odd");
        Assert.Equal(2, reasonExit);
        Assert.Contains("--reason must be one of anomaly, normal, insufficient_data", reasonError, StringComparison.Ordinal);
        var (limitExit, _, limitError) = await Cli.VerbRunner.Run("history", "alerts", "--db", database, "--limit", "0");
        Assert.Equal(2, limitExit);
        Assert.Contains("--limit", limitError, StringComparison.Ordinal);
        var (missingExit, _, missing) = await Cli.VerbRunner.Run("history", "alerts", "--db", database + ".missing");
        Assert.Equal(2, missingExit);
        Assert.Contains("no history at", missing, StringComparison.Ordinal);
    }
}
