using System.Text;
using Microsoft.Data.Sqlite;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;
using TSViz.Tests.Shared;

namespace TSViz.Plugins.Tests.History.Sqlite;

/// <summary>The SQLite history against real files in a temp folder.</summary>
public sealed class SqliteHistoryStoreTests
{
    internal static readonly DateTimeOffset T0 = new(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);

    internal static async Task<SqliteHistoryStore> NewStore()
    {
        var store = new SqliteHistoryStore(Path.Combine(RepositoryPaths.NewTempDirectory(), "sub", "history.db"));
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    internal static WindowRecord Window(string machine, int second, float score, string dominant = "temperature", bool detail = false, string? alert = null)
    {
        var end = T0.AddSeconds(second);
        string id = $"{machine}:{end:O}:anomaly-cnn/1.0.0";
        return new WindowRecord
        {
            Id = id,
            Machine = machine,
            ModelVersion = "anomaly-cnn 1.0.0",
            WindowStart = end.AddSeconds(-5),
            WindowEnd = end,
            Score = score,
            Decision = score >= 0.5f,
            ReasonCode = score >= 0.5f ? "anomaly" : "normal",
            ChannelContributions = new Dictionary<string, float> { ["pressure"] = 0.1f, ["temperature"] = dominant == "temperature" ? 0.7f : 0.2f, ["torque"] = dominant == "torque" ? 0.7f : 0.2f },
            DominantChannel = dominant,
            TopStepChannel = dominant,
            TopStep = 42,
            TopFilters = [new InfluentialFilter("conv1", second % 3, 1.5f, 1f), new InfluentialFilter("conv2", 7, 0.5f, 0.3f)],
            ScoreAfterFgsm = score * 0.9f,
            SmallestFlippingEpsilon = alert is null ? null : 0.12,
            AlertId = alert,
            Detail = detail ? new WindowDetail(Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","saliency":[[0.1,1]]}"""), [1f, 2f, 3f, 4f, 5f, 6f], 3, 2) : null,
        };
    }

    [Fact]
    public async Task Windows_RoundTripWithTheFullExplanation_AndWritesAreIdempotent()
    {
        var store = await NewStore();
        var records = new[] { Window("m1", 0, 0.9f, detail: true, alert: "a1"), Window("m1", 1, 0.1f) };
        Assert.Equal(2, await store.WriteWindowsAsync(records, CancellationToken.None));
        Assert.Equal(0, await store.WriteWindowsAsync(records, CancellationToken.None)); // a redelivery
        Assert.Equal(1, await store.WriteWindowsAsync([records[0], Window("m1", 2, 0.2f)], CancellationToken.None));

        var page = await store.QueryWindowsAsync(new WindowQuery(), CancellationToken.None);
        Assert.Equal(3, page.Items.Count);
        var existing = await store.ExistingWindowIdsAsync([records[1].Id, "m9:never", records[0].Id], CancellationToken.None);
        Assert.Equal(new HashSet<string> { records[0].Id, records[1].Id }, existing);
        var newest = await store.NewestWindowEndsAsync(CancellationToken.None);
        Assert.Equal(T0.AddSeconds(2), Assert.Single(newest).Value); // m1's newest of the three windows
        var stored = await store.GetWindowAsync(records[0].Id, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(records[0].WindowEnd, stored.WindowEnd);
        Assert.Equal(0.9f, stored.Score);
        Assert.True(stored.Decision);
        Assert.Equal("anomaly", stored.ReasonCode);
        Assert.Equal(0.7f, stored.ChannelContributions["temperature"]);
        Assert.Equal("temperature", stored.DominantChannel);
        Assert.Equal(42, stored.TopStep);
        Assert.Equal(records[0].TopFilters, stored.TopFilters);
        Assert.Equal(0.12, stored.SmallestFlippingEpsilon);
        Assert.Equal("a1", stored.AlertId);
        Assert.True(stored.HasDetail);
        Assert.Equal(records[0].Detail!.ExplanationJson, stored.Detail!.ExplanationJson);
        Assert.Equal(records[0].Detail!.Input, stored.Detail.Input);
        Assert.Null((await store.GetWindowAsync(records[1].Id, CancellationToken.None))!.Detail);
        Assert.Null(await store.GetWindowAsync("nope", CancellationToken.None));

        // WAL mode, so the live writer and the API's readers do not block each other.
        await using var connection = new SqliteConnection($"Data Source={store.Path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task QueryWindows_EveryFilterAndPaging()
    {
        var store = await NewStore();
        var records = new List<WindowRecord>();
        for (int s = 0; s < 25; s++)
        {
            records.Add(Window(s % 2 == 0 ? "m1" : "m2", s, s / 25f, s % 5 == 0 ? "torque" : "temperature", detail: s % 4 == 0));
        }

        records.Add(new WindowRecord { Id = "m1:gap", Machine = "m1", ModelVersion = "anomaly-cnn 1.0.0", WindowStart = T0.AddSeconds(30), WindowEnd = T0.AddSeconds(30), ReasonCode = "insufficient_data" });
        await store.WriteWindowsAsync(records, CancellationToken.None);

        async Task<List<WindowRecord>> All(WindowQuery q)
        {
            var items = new List<WindowRecord>();
            string? cursor = null;
            do
            {
                var page = await store.QueryWindowsAsync(q with { Cursor = cursor }, CancellationToken.None);
                items.AddRange(page.Items);
                cursor = page.NextCursor;
            }
            while (cursor is not null);
            return items;
        }

        var paged = await All(new WindowQuery { Limit = 10 });
        Assert.Equal(26, paged.Count);
        Assert.Equal(paged.Count, paged.Select(w => w.Id).Distinct().Count());
        Assert.True(paged.Zip(paged.Skip(1)).All(p => p.First.WindowEnd >= p.Second.WindowEnd));
        var first = await store.QueryWindowsAsync(new WindowQuery { Limit = 10 }, CancellationToken.None);
        Assert.Equal(10, first.Items.Count);
        Assert.NotNull(first.NextCursor);

        Assert.All(await All(new WindowQuery { Machine = "m2" }), w => Assert.Equal("m2", w.Machine));
        Assert.Equal(12, (await All(new WindowQuery { Machine = "m2" })).Count);
        Assert.Equal(5, (await All(new WindowQuery { From = T0.AddSeconds(10), To = T0.AddSeconds(15) })).Count);
        Assert.Equal(records.Count(r => r.Score >= 0.6f), (await All(new WindowQuery { MinScore = 0.6 })).Count);
        Assert.Equal(records.Count(r => r.ReasonCode == "anomaly"), (await All(new WindowQuery { ReasonCode = "anomaly" })).Count);
        Assert.Single(await All(new WindowQuery { ReasonCode = "insufficient_data" }));
        Assert.Equal(5, (await All(new WindowQuery { DominantChannel = "torque" })).Count);
        Assert.Equal(7, (await All(new WindowQuery { HasDetail = true })).Count);
        Assert.Equal(2, (await All(new WindowQuery { Machine = "m1", DominantChannel = "torque", MinScore = 0.1 })).Count);

        // Parameterised: text that would change a concatenated query matches nothing.
        Assert.Empty(await All(new WindowQuery { Machine = "m1' OR '1'='1" }));
        await Assert.ThrowsAsync<ArgumentException>(() => store.QueryWindowsAsync(new WindowQuery { Cursor = "not a cursor" }, CancellationToken.None));
    }

    internal static AlertRecord Alert(string machine, int second, float[] signature, string status = "closed", double peak = 0.9, string dominant = "temperature")
        => new()
        {
            Id = $"{machine}:{T0.AddSeconds(second):O}:anomaly-cnn/1.0.0",
            Machine = machine,
            ModelVersion = "anomaly-cnn 1.0.0",
            Episode = second,
            Status = status,
            Since = T0.AddSeconds(second),
            ClosedAt = status == "closed" ? T0.AddSeconds(second + 5) : null,
            PeakScore = peak,
            PeakWindowId = $"{machine}:{second}",
            DominantChannel = dominant,
            ChannelContributions = new Dictionary<string, float> { [dominant] = 0.8f },
            TopFilters = [new InfluentialFilter("conv1", 3, 2f, 1f)],
            Signature = signature,
            SignatureSaliencyLength = 6,
        };

    [Fact]
    public async Task Alerts_UpsertQueryAndFeedback()
    {
        var store = await NewStore();
        float[] sig = [1, 0, 0, 0, 0, 0, 1, 0];
        await store.UpsertAlertsAsync([Alert("m1", 0, sig, "open", 0.7), Alert("m2", 3600, sig, peak: 0.95, dominant: "torque")], CancellationToken.None);
        await store.UpsertAlertsAsync([Alert("m1", 0, sig, "closed", 0.99)], CancellationToken.None); // the episode closes at a higher peak

        var m1 = await store.GetAlertAsync(Alert("m1", 0, sig).Id, CancellationToken.None);
        Assert.Equal("closed", m1!.Status);
        Assert.Equal(0.99, m1.PeakScore);
        Assert.Equal(sig, m1.Signature);
        Assert.Equal(2, (await store.QueryAlertsAsync(new AlertQuery(), CancellationToken.None)).Items.Count);
        Assert.Single((await store.QueryAlertsAsync(new AlertQuery { Machine = "m2" }, CancellationToken.None)).Items);
        Assert.Single((await store.QueryAlertsAsync(new AlertQuery { DominantChannel = "torque" }, CancellationToken.None)).Items);
        Assert.Single((await store.QueryAlertsAsync(new AlertQuery { MinScore = 0.98 }, CancellationToken.None)).Items);
        Assert.Empty((await store.QueryAlertsAsync(new AlertQuery { Status = "open" }, CancellationToken.None)).Items);
        Assert.Single((await store.QueryAlertsAsync(new AlertQuery { From = T0.AddMinutes(30) }, CancellationToken.None)).Items);
        var paged = await store.QueryAlertsAsync(new AlertQuery { Limit = 1 }, CancellationToken.None);
        var rest = await store.QueryAlertsAsync(new AlertQuery { Limit = 1, Cursor = paged.NextCursor }, CancellationToken.None);
        Assert.NotEqual(paged.Items[0].Id, rest.Items[0].Id);
        Assert.Null(rest.NextCursor);

        var perHour = await store.AlertsPerHourAsync(T0, T0.AddDays(1), null, CancellationToken.None);
        Assert.Equal([("m1", T0, 1), ("m2", T0.AddHours(1), 1)], perHour.Select(h => (h.Machine, h.Hour, h.Alerts)));

        var ack = await store.AddFeedbackAsync(m1.Id, FeedbackKind.Acknowledge, new FeedbackAuthor("ana", "operator", "api_key"), null, T0.AddHours(2), CancellationToken.None);
        var no = await store.AddFeedbackAsync(m1.Id, FeedbackKind.FalseAlarm, new FeedbackAuthor("ben"), "sensor was being recalibrated", T0.AddHours(3), CancellationToken.None);
        Assert.Null(await store.AddFeedbackAsync("missing", FeedbackKind.Confirm, new FeedbackAuthor("ana"), null, T0, CancellationToken.None));
        var feedback = await store.FeedbackAsync(m1.Id, CancellationToken.None);
        Assert.Equal("false_alarm", (await store.GetAlertAsync(m1.Id, CancellationToken.None))!.LastFeedback);
        Assert.Null((await store.QueryAlertsAsync(new AlertQuery { Machine = "m2" }, CancellationToken.None)).Items[0].LastFeedback);
        Assert.Equal([ack!.Id, no!.Id], feedback.Select(f => f.Id));
        Assert.Equal(FeedbackKind.FalseAlarm, feedback[1].Kind);
        Assert.Equal("sensor was being recalibrated", feedback[1].Comment);
        Assert.Equal("ben", feedback[1].Author);
        Assert.Equal(("operator", "api_key"), (feedback[0].AuthorRole, feedback[0].AuthorMethod));
    }

    [Fact]
    public async Task SimilarAlerts_ThePlantedLookAlikeComesFirst()
    {
        var store = await NewStore();
        var random = new Random(3);
        float[] Pattern(int peakStep, int filter)
        {
            var s = new float[8];
            for (int i = 0; i < 6; i++)
            {
                s[i] = (float)(0.05 * random.NextDouble());
            }

            s[peakStep] = 1;
            s[6 + filter] = 1;
            return s;
        }

        var target = Alert("m1", 0, Pattern(4, 0));
        var lookAlike = Alert("m7", 100, Pattern(4, 0));
        await store.UpsertAlertsAsync([target, Alert("m2", 50, Pattern(1, 1)), lookAlike, Alert("m3", 150, Pattern(4, 1)), Alert("m4", 200, Pattern(0, 1))], CancellationToken.None);
        var similar = await store.SimilarAlertsAsync(target.Id, 10, CancellationToken.None);
        Assert.Equal(4, similar.Count);
        Assert.Equal(lookAlike.Id, similar[0].Alert.Id);
        Assert.Equal("m3", similar[1].Alert.Machine); // same saliency pattern, other filter: half similar
        Assert.True(similar[0].Similarity > 0.95 && similar[1].Similarity < similar[0].Similarity);
        Assert.DoesNotContain(similar, s => s.Alert.Id == target.Id);
        Assert.Empty(await store.SimilarAlertsAsync("missing", 5, CancellationToken.None));
    }

    [Fact]
    public async Task Aggregates_ChannelContributionsAndTopFilters()
    {
        var store = await NewStore();
        await store.WriteWindowsAsync([Window("m1", 0, 0.1f), Window("m1", 1, 0.1f, "torque"), Window("m1", 70, 0.1f), Window("m2", 2, 0.1f)], CancellationToken.None);
        var points = await store.ChannelContributionOverTimeAsync("m1", T0, T0.AddHours(1), TimeSpan.FromMinutes(1), CancellationToken.None);
        var firstMinute = points.Where(p => p.Bucket == T0).ToDictionary(p => p.Channel);
        Assert.Equal((0.7 + 0.2) / 2, firstMinute["temperature"].MeanShare, 5);
        Assert.Equal(2, firstMinute["temperature"].Windows);
        Assert.Equal(3, points.Count(p => p.Bucket == T0.AddMinutes(1)));

        var filters = await store.TopFilterFrequencyAsync(T0, T0.AddHours(1), "m1", 10, CancellationToken.None);
        Assert.Equal(("conv2", 7, 3), (filters[0].Layer, filters[0].Index, filters[0].Windows));
        Assert.Equal(3, filters.Where(f => f.Layer == "conv1").Sum(f => f.Windows));
    }

    [Fact]
    public async Task Retention_DeletesByAgeAndKind_KeepsOpenAlerts()
    {
        var store = await NewStore();
        var now = T0.AddDays(40);
        await store.WriteWindowsAsync([Window("m1", 0, 0.9f, detail: true), Window("m1", (int)TimeSpan.FromDays(35).TotalSeconds, 0.9f, detail: true), Window("m1", (int)TimeSpan.FromDays(39.5).TotalSeconds, 0.9f, detail: true)], CancellationToken.None);
        await store.UpsertAlertsAsync([Alert("m1", 0, [1, 0, 0, 0, 0, 0]), Alert("m2", 1, [1, 0, 0, 0, 0, 0], "open")], CancellationToken.None);
        await store.SaveAnalysisAsync("analysis", "anomaly-cnn", "1.0.0", T0, 10, "{}", CancellationToken.None);
        Assert.Equal(3, (await store.InputWindowsAsync(T0.AddDays(-1), 100, CancellationToken.None)).Count);

        var result = await store.ApplyRetentionAsync(new RetentionPolicy { Windows = TimeSpan.FromDays(30), Details = TimeSpan.FromDays(2), Alerts = TimeSpan.FromDays(30), Analyses = TimeSpan.FromDays(30) }, now, CancellationToken.None);
        Assert.Equal(new RetentionResult(Windows: 1, Details: 2, Alerts: 1, Analyses: 1), result); // details of day 0 and day 35 are older than 2 days
        var left = (await store.QueryWindowsAsync(new WindowQuery(), CancellationToken.None)).Items;
        Assert.Equal(2, left.Count);
        Assert.Equal([true, false], left.Select(w => w.HasDetail)); // newest keeps its explanation, the 5-day-old one lost it
        Assert.Single(await store.InputWindowsAsync(T0.AddDays(-1), 100, CancellationToken.None));
        Assert.Equal("open", Assert.Single((await store.QueryAlertsAsync(new AlertQuery(), CancellationToken.None)).Items).Status);
        Assert.Empty(await store.AnalysesAsync(null, 10, CancellationToken.None));
    }

    [Fact]
    public async Task ApplyRetention_WindowsOfAKeptAlert_KeptWithTheirDetailAsLongAsTheAlert()
    {
        var store = await NewStore();
        var now = T0.AddDays(400);
        int Day(double days) => (int)TimeSpan.FromDays(days).TotalSeconds;
        var keptAlert = Alert("m1", Day(100), [1, 0, 0, 0, 0, 0]);    // closed, 300 days old: kept a year
        var expiredAlert = Alert("m2", 0, [1, 0, 0, 0, 0, 0]);        // closed, 400 days old: deleted
        var openAlert = Alert("m3", Day(1), [1, 0, 0, 0, 0, 0], "open"); // open: never deleted
        var ofKept = Window("m1", Day(100), 0.9f, detail: true, alert: keptAlert.Id);
        var ofExpired = Window("m2", 0, 0.9f, detail: true, alert: expiredAlert.Id);
        var ofOpen = Window("m3", Day(1), 0.9f, detail: true, alert: openAlert.Id);
        var ofMissing = Window("m4", Day(100), 0.9f, detail: true, alert: "never-stored");
        var recent = Window("m5", Day(395), 0.2f, detail: true);
        var older = Window("m5", Day(380), 0.2f, detail: true);
        await store.WriteBatchAsync(new HistoryBatch { Windows = [ofKept, ofExpired, ofOpen, ofMissing, recent, older], Alerts = [keptAlert, expiredAlert, openAlert] }, CancellationToken.None);

        var result = await store.ApplyRetentionAsync(new RetentionPolicy(), now, CancellationToken.None);

        // Details: the expired alert's, the orphan's and the 20-day-old plain window's; windows: the expired alert's and the orphan.
        Assert.Equal(new RetentionResult(Windows: 2, Details: 3, Alerts: 1, Analyses: 0), result);
        foreach (var kept in new[] { ofKept, ofOpen, recent })
        {
            var stored = await store.GetWindowAsync(kept.Id, CancellationToken.None);
            Assert.True(stored!.HasDetail, kept.Id);
            Assert.Equal(kept.Detail!.Input, stored.Detail!.Input);
        }

        Assert.Null(await store.GetWindowAsync(ofExpired.Id, CancellationToken.None));
        Assert.Null(await store.GetWindowAsync(ofMissing.Id, CancellationToken.None));
        var aged = await store.GetWindowAsync(older.Id, CancellationToken.None);
        Assert.False(aged!.HasDetail);
        Assert.Null(aged.Detail);
        Assert.Equal(3, (await store.InputWindowsAsync(T0.AddDays(-1), 100, CancellationToken.None)).Count);
        Assert.Equal(new[] { keptAlert.Id, openAlert.Id }.Order(StringComparer.Ordinal), (await store.QueryAlertsAsync(new AlertQuery(), CancellationToken.None)).Items.Select(a => a.Id).Order(StringComparer.Ordinal));

        // When the kept alert reaches its own age, its window and detail go with it; the open alert's stay.
        var later = await store.ApplyRetentionAsync(new RetentionPolicy(), T0.AddDays(470), CancellationToken.None);
        Assert.Equal(1, later.Alerts);
        Assert.Null(await store.GetWindowAsync(ofKept.Id, CancellationToken.None));
        Assert.True((await store.GetWindowAsync(ofOpen.Id, CancellationToken.None))!.HasDetail);
    }
}
