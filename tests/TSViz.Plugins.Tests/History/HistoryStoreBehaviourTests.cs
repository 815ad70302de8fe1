using System.Diagnostics;
using System.Globalization;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Ado;
using TSViz.Plugins.Windows;
using Xunit.Abstractions;
using static TSViz.Plugins.Tests.History.HistoryTestData;

namespace TSViz.Plugins.Tests.History;

/// <summary>
/// What every history store does, whatever keeps it: the tests of the contracts (<see cref="IHistoryStore"/>), run once
/// per implementation by a sealed subclass that makes a fresh, initialised store for each test (SQLite: a new file;
/// PostgreSQL: a new database on a real server). What only one store has (SQLite's WAL mode and file faults, a
/// server that cannot be reached) is tested beside its subclass.
/// </summary>
public abstract class HistoryStoreBehaviourTests(ITestOutputHelper output)
{
    /// <summary>An empty store, its schema initialised.</summary>
    protected abstract Task<IHistoryStore> NewStore();

    /// <summary>The machine_checkpoints.updated_at column of a machine's row, read past the store (null when NULL or no row).</summary>
    protected abstract Task<long?> CheckpointUpdatedAtAsync(IHistoryStore store, string machine);

    /// <summary>Makes the storage refuse, with the message "poisoned", any checkpoint row of machine 'poison' (a trigger).</summary>
    protected abstract Task PoisonCheckpointsAsync(IHistoryStore store);

    /// <summary>The exception type the storage's own errors come as (its driver's).</summary>
    protected abstract Type StorageErrorType { get; }

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
    }

    [Fact]
    public async Task WriteWindows_OneWindowTwiceInOneBatch_StoredOnceAsItsFirstCopy()
    {
        var store = await NewStore();
        var plain = Window("m1", 0, 0.2f);
        var withDetail = plain with { Score = 0.3f, Detail = Window("m1", 0, 0.2f, detail: true).Detail };

        Assert.Equal(2, await store.WriteWindowsAsync([plain, withDetail, Window("m1", 1, 0.4f, detail: true), Window("m1", 1, 0.5f)], CancellationToken.None));

        var first = await store.GetWindowAsync(plain.Id, CancellationToken.None);
        Assert.Equal(((float?)0.2f, false, (WindowDetail?)null), (first!.Score, first.HasDetail, first.Detail));
        var second = await store.GetWindowAsync(Window("m1", 1, 0.4f).Id, CancellationToken.None);
        Assert.Equal(((float?)0.4f, true), (second!.Score, second.HasDetail));
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], second.Detail!.Input);
        Assert.Single(await store.InputWindowsAsync(T0.AddDays(-1), 10, CancellationToken.None));
    }

    [Fact]
    public async Task WriteBatch_AMicroBatchOfHundredsOfWindows_OneCallStoresEveryOneAndARedeliveryNone()
    {
        var store = await NewStore();
        const int Count = 600;
        var windows = Enumerable.Range(0, Count).Select(i => Window($"m{i % 6}", i, (i % 10) / 10f, detail: i % 20 == 0, alert: i % 50 == 0 ? "a1" : null)).ToList();
        var batch = new HistoryBatch { Windows = windows, Checkpoints = [Checkpoint("m0", 8, 1f)] };

        var clock = Stopwatch.StartNew();
        Assert.Equal(Count, await store.WriteBatchAsync(batch, CancellationToken.None));
        clock.Stop();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{GetType().Name}: {Count} windows ({Count / 20} with details) in one batch: {clock.Elapsed.TotalMilliseconds:F1} ms, {Count / clock.Elapsed.TotalSeconds:F0} windows/s"));

        clock.Restart();
        Assert.Equal(0, await store.WriteBatchAsync(batch, CancellationToken.None)); // the whole batch redelivered
        clock.Stop();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{GetType().Name}: the same batch redelivered: {clock.Elapsed.TotalMilliseconds:F1} ms"));

        var stored = new List<WindowRecord>();
        string? cursor = null;
        do
        {
            var page = await store.QueryWindowsAsync(new WindowQuery { Limit = 1000, Cursor = cursor }, CancellationToken.None);
            stored.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(windows.Select(w => w.Id).Reverse(), stored.Select(w => w.Id)); // newest first, every one once
        Assert.Equal(Count / 20, stored.Count(w => w.HasDetail));
        Assert.Equal(Count / 20, (await store.InputWindowsAsync(T0.AddDays(-1), 1000, CancellationToken.None)).Count);
        Assert.Equal(Count / 50, (await store.QueryWindowsAsync(new WindowQuery { Limit = 1000 }, CancellationToken.None)).Items.Count(w => w.AlertId == "a1"));
        Assert.Equal(Count, (await store.ExistingWindowIdsAsync(windows.Select(w => w.Id).ToList(), CancellationToken.None)).Count);

        // Warm: five more batches of new windows, for the rate a running monitor sees (printed, not asserted).
        clock.Restart();
        for (int b = 1; b <= 5; b++)
        {
            var next = windows.Select(w => w with { Id = $"{w.Id}#{b}" }).ToList();
            Assert.Equal(Count, await store.WriteBatchAsync(new HistoryBatch { Windows = next, Checkpoints = [Checkpoint("m0", 8, b)] }, CancellationToken.None));
        }

        clock.Stop();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{GetType().Name}: 5 more batches of {Count}: {clock.Elapsed.TotalMilliseconds / 5:F1} ms a batch, {5 * Count / clock.Elapsed.TotalSeconds:F0} windows/s"));
    }

    [Fact]
    public async Task Initialize_AgainOnAStoreWithRows_KeepsThem()
    {
        var store = await NewStore();
        await store.WriteBatchAsync(new HistoryBatch { Windows = [Window("m1", 0, 0.9f, detail: true)], Alerts = [Alert("m1", 0, [1, 0, 0, 0, 0, 0])], Checkpoints = [Checkpoint("m1", 3, 1f)] }, CancellationToken.None);

        await store.InitializeAsync(CancellationToken.None);

        Assert.True((await store.GetWindowAsync(Window("m1", 0, 0.9f).Id, CancellationToken.None))!.HasDetail);
        Assert.Single((await store.QueryAlertsAsync(new AlertQuery(), CancellationToken.None)).Items);
        AssertSame(Checkpoint("m1", 3, 1f), Assert.Single(await store.LoadCheckpointsAsync(CancellationToken.None)));
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
        // Minimums on both sides of the score index's lowest score (HistoryDialect.HighScore): through the index or not, the same rows.
        foreach (double minScore in new[] { 0.05, 0.3, HistoryDialect.HighScore - 1e-9, HistoryDialect.HighScore, 0.6, 0.95 })
        {
            Assert.Equal(records.Count(r => r.Score >= minScore), (await All(new WindowQuery { MinScore = minScore })).Count);
        }

        Assert.Contains(records, r => r.Score >= HistoryDialect.HighScore);
        Assert.Contains(records, r => r.Score < HistoryDialect.HighScore);
        Assert.Equal(records.Count(r => r.ReasonCode == "anomaly"), (await All(new WindowQuery { ReasonCode = "anomaly" })).Count);
        Assert.Single(await All(new WindowQuery { ReasonCode = "insufficient_data" }));
        Assert.Equal(5, (await All(new WindowQuery { DominantChannel = "torque" })).Count);
        Assert.Equal(7, (await All(new WindowQuery { HasDetail = true })).Count);
        Assert.Equal(2, (await All(new WindowQuery { Machine = "m1", DominantChannel = "torque", MinScore = 0.1 })).Count);

        // Parameterised: text that would change a concatenated query matches nothing.
        Assert.Empty(await All(new WindowQuery { Machine = "m1' OR '1'='1" }));
        await Assert.ThrowsAsync<ArgumentException>(() => store.QueryWindowsAsync(new WindowQuery { Cursor = "not a cursor" }, CancellationToken.None));
    }

    [Fact]
    public async Task QueryWindows_RowsOfOneTime_PagedByIdInOrdinalOrder()
    {
        var store = await NewStore();
        // One window end, ids that sort differently by byte and by a linguistic collation (case, punctuation).
        string[] ids = ["m1:b", "m1:B", "m1:a", "m1:_", "m1:Z", "m1:a-b", "m1:ab"];
        await store.WriteWindowsAsync(ids.Select(id => Window("m1", 0, 0.5f) with { Id = id }).ToList(), CancellationToken.None);

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await store.QueryWindowsAsync(new WindowQuery { Limit = 2, Cursor = cursor }, CancellationToken.None);
            seen.AddRange(page.Items.Select(w => w.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(ids.Order(StringComparer.Ordinal).Reverse(), seen);
    }

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
    public async Task Counterfactuals_OnePerAlert_TheLatestReplacesTheEarlier()
    {
        var store = await NewStore();
        var alert = Alert("m1", 0, [1, 0, 0, 0, 0, 0], "open");
        await store.UpsertAlertsAsync([alert], CancellationToken.None);
        Assert.Null(await store.CounterfactualAsync(alert.Id, CancellationToken.None));

        await store.SaveCounterfactualAsync(new CounterfactualRecord(alert.Id, "m1", "w1", T0.AddSeconds(5), false, "{\"found\":false}"), CancellationToken.None);
        await store.SaveCounterfactualAsync(new CounterfactualRecord(alert.Id, "m1", "w2", T0.AddSeconds(9), true, "{\"found\":true,\"changes\":[]}"), CancellationToken.None);
        var stored = await store.CounterfactualAsync(alert.Id, CancellationToken.None);
        Assert.Equal(new CounterfactualRecord(alert.Id, "m1", "w2", T0.AddSeconds(9), true, "{\"found\":true,\"changes\":[]}"), stored);
        Assert.Null(await store.CounterfactualAsync("other", CancellationToken.None));

        // Retention removes a closed alert's counterfactual with the alert.
        await store.UpsertAlertsAsync([Alert("m1", 0, [1, 0, 0, 0, 0, 0])], CancellationToken.None);
        await store.ApplyRetentionAsync(new RetentionPolicy { Alerts = TimeSpan.FromDays(30) }, T0.AddDays(40), CancellationToken.None);
        Assert.Null(await store.CounterfactualAsync(alert.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Drift_ReferenceWindowsAreTheNormalOnesInOrder_ProfilesPerModelVersion_EventsNewestFirst()
    {
        var store = await NewStore();
        string[] channels = ["pressure", "temperature", "torque"];
        float[] Features(int second) => [.. Enumerable.Range(0, TSViz.Plugins.Drift.DriftFeatures.Size(3)).Select(i => second + (i / 100f))];
        var windows = new List<WindowRecord>();
        for (int second = 0; second < 12; second++)
        {
            windows.Add(Window("m1", second, second == 5 ? 0.9f : 0.1f, alert: second == 7 ? "m1-alert" : null) with { DriftFeatures = Features(second) });
        }

        windows.Add(Window("m2", 3, 0.2f, dominant: "torque") with { DriftFeatures = Features(3) });
        windows.Add(Window("m2", 4, 0.2f)); // no drift features (written before drift detection, or unexplained)
        windows.Add(Window("m3", 4, 0.2f) with { ModelVersion = "other 2.0", DriftFeatures = Features(4) });
        await store.WriteWindowsAsync(windows, CancellationToken.None);

        Assert.Equal(["m1", "m2"], await store.ReferenceMachinesAsync("anomaly-cnn 1.0.0", T0.AddSeconds(1), T0.AddSeconds(10), CancellationToken.None));
        Assert.Equal(["m1"], await store.ReferenceMachinesAsync("anomaly-cnn 1.0.0", T0.AddSeconds(5), T0.AddSeconds(10), CancellationToken.None));
        var m1 = await store.ReferenceWindowsAsync("m1", "anomaly-cnn 1.0.0", T0.AddSeconds(1), T0.AddSeconds(10), 6, channels, CancellationToken.None);
        // Seconds 1-10 of m1 without the flagged (5) and the alert's (7) window: 1,2,3,4,6,8,9,10, the last 6 of them.
        Assert.Equal([T0.AddSeconds(3), T0.AddSeconds(4), T0.AddSeconds(6), T0.AddSeconds(8), T0.AddSeconds(9), T0.AddSeconds(10)], m1.Select(o => o.At));
        var first = m1[0];
        Assert.Equal(0.1f, first.Score);
        Assert.Equal([0.1f, 0.7f, 0.2f], first.Shares);
        Assert.Equal(["conv1/0", "conv2/7"], first.TopFilters);
        Assert.Equal(Features(3), first.Features);
        var m2 = await store.ReferenceWindowsAsync("m2", "anomaly-cnn 1.0.0", T0.AddSeconds(1), T0.AddSeconds(10), 6, channels, CancellationToken.None);
        Assert.Equal([0.1f, 0.2f, 0.7f], Assert.Single(m2).Shares);
        Assert.Empty(await store.ReferenceWindowsAsync("m3", "anomaly-cnn 1.0.0", T0, T0.AddSeconds(10), 6, channels, CancellationToken.None));

        var profile = new TSViz.Plugins.Drift.DriftProfile
        {
            Machine = "m1", ModelVersion = "anomaly-cnn 1.0.0", BuiltAt = T0.AddDays(1), From = T0, To = T0.AddHours(1), Windows = 1000, Rolling = 100, Channels = channels,
            Level = [.. channels.Select(_ => new TSViz.Plugins.Drift.DriftHistogram([1.5], [0.25, 0.75]))], Spread = [.. channels.Select(_ => new TSViz.Plugins.Drift.DriftHistogram([], [1.0]))],
            Share = [.. channels.Select(_ => new TSViz.Plugins.Drift.DriftHistogram([0.3, 0.6], [0.2, 0.5, 0.3]))], Score = new TSViz.Plugins.Drift.DriftHistogram([0.01], [0.5, 0.5]),
            LevelMeans = [5, 80, 12], SpreadMeans = [0.1, 0.2, 0.05], ShareMeans = [0.2, 0.35, 0.45], ScoreMean = 0.01,
            Filters = new Dictionary<string, double> { ["conv1/0"] = 0.4, ["other"] = 2.6 }, SaliencyMass = [.. Enumerable.Repeat(0.1, 10)],
            Thresholds = new TSViz.Plugins.Drift.DriftThresholds(0.3, 0.05, 0.06),
        };
        await store.SaveDriftProfileAsync(profile, CancellationToken.None);
        await store.SaveDriftProfileAsync(profile with { Machine = "m2" }, CancellationToken.None);
        await store.SaveDriftProfileAsync(profile with { ModelVersion = "other 2.0", Windows = 5 }, CancellationToken.None);
        var rebuilt = profile with { BuiltAt = T0.AddDays(2), Windows = 2000 };
        await store.SaveDriftProfileAsync(rebuilt, CancellationToken.None);
        var profiles = await store.DriftProfilesAsync("anomaly-cnn 1.0.0", CancellationToken.None);
        Assert.Equal(["m1", "m2"], profiles.Select(p => p.Machine));
        Assert.Equal(2000, profiles[0].Windows);
        Assert.Equal(rebuilt.BuiltAt, profiles[0].BuiltAt);
        Assert.Equal(rebuilt.Level[0].Edges, profiles[0].Level[0].Edges);
        Assert.Equal(rebuilt.Share[1].Probabilities, profiles[0].Share[1].Probabilities);
        Assert.Equal(rebuilt.Filters, profiles[0].Filters);
        Assert.Equal(rebuilt.Thresholds, profiles[0].Thresholds);

        var move = new TSViz.Plugins.Drift.DriftMove("share", "torque", null, null, 0.45, 0.8, 0.2);
        await store.AddDriftEventsAsync(
            [
                new DriftEvent("m1", "anomaly-cnn 1.0.0", T0.AddMinutes(1), "explanation", "drift", 0.2, 0.06, move, "explanation drift on m1"),
                new DriftEvent("m2", "anomaly-cnn 1.0.0", T0.AddMinutes(2), "input", "drift", 0.5, 0.3, move with { Component = "level", Channel = "pressure" }, "input drift on m2"),
                new DriftEvent("m1", "anomaly-cnn 1.0.0", T0.AddMinutes(3), "explanation", "normal", 0.01, 0.06, move, "over"),
            ],
            CancellationToken.None);
        var events = await store.DriftEventsAsync(null, null, 10, CancellationToken.None);
        Assert.Equal(["over", "input drift on m2", "explanation drift on m1"], events.Select(e => e.Summary));
        Assert.Equal(move, events[2].Moved);
        Assert.Equal(["over", "explanation drift on m1"], (await store.DriftEventsAsync("m1", null, 10, CancellationToken.None)).Select(e => e.Summary));
        Assert.Equal(["over"], (await store.DriftEventsAsync("m1", T0.AddMinutes(2), 10, CancellationToken.None)).Select(e => e.Summary));
        Assert.Single(await store.DriftEventsAsync(null, null, 1, CancellationToken.None));

        // Retention ages drift events with the alerts.
        await store.ApplyRetentionAsync(new RetentionPolicy { Alerts = TimeSpan.FromDays(30) }, T0.AddDays(40), CancellationToken.None);
        Assert.Empty(await store.DriftEventsAsync(null, null, 10, CancellationToken.None));
    }

    [Fact]
    public async Task Patterns_AssignedPerModelVersion_SummarisedFromTheirAlertsAndTheLatestVerdicts()
    {
        var store = await NewStore();
        float[] sig = [1, 0, 0, 0, 0, 0];
        AlertRecord A(string machine, int seconds, string model = "anomaly-cnn 1.0.0") => Alert(machine, seconds, sig) with { ModelVersion = model };
        var a1 = A("m3", 0);
        var a2 = A("m7", 3600);
        var a3 = A("m3", 7200);
        var other = A("m1", 100, "anomaly-cnn 2.0.0");
        await store.UpsertAlertsAsync([a1, a2, a3, other], CancellationToken.None);
        Assert.Equal([a3.Id, a2.Id, other.Id, a1.Id], (await store.AlertsSinceAsync(T0, 10, CancellationToken.None)).Select(a => a.Id));
        Assert.Equal([a3.Id], (await store.AlertsSinceAsync(T0.AddHours(1.5), 10, CancellationToken.None)).Select(a => a.Id));

        await store.ReplacePatternsAsync("anomaly-cnn 1.0.0", [new(a1.Id, "p1"), new(a2.Id, "p1"), new(a3.Id, "p2")], T0.AddDays(1), CancellationToken.None);
        await store.ReplacePatternsAsync("anomaly-cnn 2.0.0", [new(other.Id, "q1")], T0.AddDays(1), CancellationToken.None);
        // Operators: a1 confirmed then judged a false alarm (the latest verdict counts), a2 confirmed with a comment.
        await store.AddFeedbackAsync(a1.Id, FeedbackKind.Confirm, new FeedbackAuthor("ana"), null, T0.AddHours(2), CancellationToken.None);
        await store.AddFeedbackAsync(a1.Id, FeedbackKind.FalseAlarm, new FeedbackAuthor("ben"), "recalibration", T0.AddHours(3), CancellationToken.None);
        await store.AddFeedbackAsync(a2.Id, FeedbackKind.Confirm, new FeedbackAuthor("ana"), "bearing overheating", T0.AddHours(4), CancellationToken.None);
        await store.AddFeedbackAsync(a2.Id, FeedbackKind.Acknowledge, new FeedbackAuthor("cy"), null, T0.AddHours(5), CancellationToken.None);

        var p1 = await store.PatternAsync("p1", CancellationToken.None);
        Assert.NotNull(p1);
        Assert.Equal(2, p1.Occurrences);
        Assert.Equal(["m3", "m7"], p1.Machines);
        Assert.Equal((T0, T0.AddHours(1)), (p1.FirstSeen, p1.LastSeen));
        Assert.Equal((1, 1), (p1.Confirmed, p1.FalseAlarms));
        Assert.False(p1.MostlyFalseAlarms);
        Assert.Equal(("bearing overheating", (DateTimeOffset?)T0.AddHours(4)), (p1.LastComment, p1.LastCommentAt));
        Assert.Equal([a2.Id, a1.Id], p1.AlertIds);
        Assert.Equal(T0.AddDays(1), p1.ComputedAt);
        Assert.Equal("anomaly-cnn 1.0.0", p1.ModelVersion);
        Assert.Equal("p2", await store.PatternIdOfAsync(a3.Id, CancellationToken.None));
        Assert.Null(await store.PatternAsync("nope", CancellationToken.None));

        var members = await store.PatternMembersAsync("anomaly-cnn 1.0.0", CancellationToken.None);
        Assert.Equal([("p1", a1.Id), ("p1", a2.Id), ("p2", a3.Id)], members.Select(m => (m.PatternId, m.Alert.Id)));
        Assert.Equal(sig, members[0].Alert.Signature);

        // The next night replaces one model version's assignments and leaves the other's.
        await store.ReplacePatternsAsync("anomaly-cnn 1.0.0", [new(a1.Id, "p9")], T0.AddDays(2), CancellationToken.None);
        Assert.Null(await store.PatternIdOfAsync(a3.Id, CancellationToken.None));
        Assert.Equal("p9", await store.PatternIdOfAsync(a1.Id, CancellationToken.None));
        Assert.Equal("q1", await store.PatternIdOfAsync(other.Id, CancellationToken.None));
        Assert.True((await store.PatternAsync("p9", CancellationToken.None))!.MostlyFalseAlarms);
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

    [Fact]
    public async Task Analyses_SavedAndListedNewestFirst_TheJsonGivenBackAsStored()
    {
        var store = await NewStore();
        var first = await store.SaveAnalysisAsync("analysis", "anomaly-cnn", "1.0.0", T0, 12, """{"k":3,  "clusters":[1,2]}""", CancellationToken.None);
        var second = await store.SaveAnalysisAsync("pruning", "anomaly-cnn", "1.0.0", T0.AddHours(1), 5, "{}", CancellationToken.None);
        var third = await store.SaveAnalysisAsync("analysis", "anomaly-cnn", "1.0.1", T0.AddHours(2), 7, """{"k":4}""", CancellationToken.None);

        Assert.True(first.Id < second.Id && second.Id < third.Id);
        Assert.Equal([third.Id, second.Id, first.Id], (await store.AnalysesAsync(null, 10, CancellationToken.None)).Select(a => a.Id));
        var analyses = await store.AnalysesAsync("analysis", 10, CancellationToken.None);
        Assert.Equal([third, first], analyses);
        Assert.Equal("""{"k":3,  "clusters":[1,2]}""", analyses[1].SummaryJson);
        Assert.Single(await store.AnalysesAsync("analysis", 1, CancellationToken.None));
    }

    [Fact]
    public async Task WriteBatch_WindowsAlertsAndCheckpoints_ReloadExactlyAndTheLatestCheckpointWins()
    {
        var store = await NewStore();
        var first = new HistoryBatch
        {
            Windows = [Window("m1", 0, 0.9f, detail: true, alert: "a1"), Window("m2", 0, 0.1f)],
            Alerts = [Alert("m1", 0, [1, 0, 0, 0, 0, 0], "open")],
            Checkpoints = [Checkpoint("m1", 5, 1f), Checkpoint("m2", 4, 2f), Checkpoint("m1", 6, 3f, sinceEmit: 1, emitted: 8)],
        };
        Assert.Equal(2, await store.WriteBatchAsync(first, CancellationToken.None));

        var loaded = await store.LoadCheckpointsAsync(CancellationToken.None);
        Assert.Equal(["m1", "m2"], loaded.Select(c => c.Machine));
        AssertSame(first.Checkpoints[2], loaded[0]); // of m1's two, the last in the list
        AssertSame(first.Checkpoints[1], loaded[1]);
        Assert.Equal(first.Checkpoints[2].Last!.Value.ToUnixTimeMilliseconds(), await CheckpointUpdatedAtAsync(store, "m1"));
        Assert.Equal("open", (await store.GetAlertAsync(first.Alerts[0].Id, CancellationToken.None))!.Status);
        Assert.Equal(2, (await store.QueryWindowsAsync(new WindowQuery(), CancellationToken.None)).Items.Count);

        // The next write: one redelivered window, one new; m1 moves on, m2 is evicted, m3 starts with an empty buffer.
        var second = new HistoryBatch
        {
            Windows = [first.Windows[0], Window("m1", 1, 0.2f, alert: "a1")],
            Alerts = [Alert("m1", 0, [1, 0, 0, 0, 0, 0], "closed")],
            Checkpoints = [Checkpoint("m1", 7, 4f, sinceEmit: 2, emitted: 9), new WindowCheckpoint("m3", [], [], 0, 0)],
            RemovedCheckpoints = ["m2", "never-seen"],
        };
        Assert.Equal(1, await store.WriteBatchAsync(second, CancellationToken.None));

        loaded = await store.LoadCheckpointsAsync(CancellationToken.None);
        Assert.Equal(["m1", "m3"], loaded.Select(c => c.Machine));
        AssertSame(second.Checkpoints[0], loaded[0]);
        AssertSame(second.Checkpoints[1], loaded[1]);
        Assert.Null(await CheckpointUpdatedAtAsync(store, "m3"));
        Assert.Equal("closed", (await store.GetAlertAsync(first.Alerts[0].Id, CancellationToken.None))!.Status);
        Assert.Equal(0, await store.WriteBatchAsync(new HistoryBatch(), CancellationToken.None));
    }

    [Fact]
    public async Task WriteBatch_OneAlertTwice_UpdatedInListOrder()
    {
        var store = await NewStore();
        float[] sig = [1, 0, 0, 0, 0, 0];
        var opened = Alert("m1", 0, sig, "open", 0.7);
        var closed = opened with { Status = "closed", ClosedAt = T0.AddSeconds(9), PeakScore = 0.8, Episode = 99, CloseReason = "machine_idle" };

        await store.WriteBatchAsync(new HistoryBatch { Alerts = [opened, closed] }, CancellationToken.None);

        var stored = await store.GetAlertAsync(opened.Id, CancellationToken.None);
        // The second is an update: what an episode is (machine, model, episode number, since) stays as first written.
        Assert.Equal(("closed", 0.8, (DateTimeOffset?)T0.AddSeconds(9), "machine_idle", opened.Episode), (stored!.Status, stored.PeakScore, stored.ClosedAt, stored.CloseReason, stored.Episode));
    }

    [Fact]
    public async Task WriteBatch_FailsAtItsLastStatement_LeavesNothingWritten()
    {
        var store = await NewStore();
        var before = Checkpoint("m1", 5, 1f);
        await store.WriteBatchAsync(new HistoryBatch { Checkpoints = [before, Checkpoint("m2", 5, 2f)] }, CancellationToken.None);

        // A trigger stands in for any failure after everything else in the batch went through: the poisoned checkpoint
        // is the batch's last statement, after its windows, its alert, m2's removal and m1's new checkpoint.
        await PoisonCheckpointsAsync(store);

        var batch = new HistoryBatch
        {
            Windows = [Window("m1", 0, 0.9f, detail: true), Window("m1", 1, 0.9f)],
            Alerts = [Alert("m1", 0, [1, 0, 0, 0, 0, 0], "open")],
            Checkpoints = [Checkpoint("m1", 6, 9f), Checkpoint("poison", 2, 0f)],
            RemovedCheckpoints = ["m2"],
        };
        var error = await Assert.ThrowsAsync(StorageErrorType, () => store.WriteBatchAsync(batch, CancellationToken.None));
        Assert.Contains("poisoned", error.Message, StringComparison.Ordinal);

        Assert.Empty((await store.QueryWindowsAsync(new WindowQuery(), CancellationToken.None)).Items);
        Assert.Empty((await store.QueryAlertsAsync(new AlertQuery(), CancellationToken.None)).Items);
        var loaded = await store.LoadCheckpointsAsync(CancellationToken.None);
        Assert.Equal(["m1", "m2"], loaded.Select(c => c.Machine));
        AssertSame(before, loaded[0]);
    }

    [Fact]
    public async Task WriteBatch_InconsistentCheckpoint_ThrowsBeforeWritingAnything()
    {
        var store = await NewStore();
        var batch = new HistoryBatch
        {
            Windows = [Window("m1", 0, 0.9f)],
            Checkpoints = [new WindowCheckpoint("m1", [T0, T0.AddSeconds(1)], [1f, 2f, 3f], 0, 0)], // 3 values for 2 samples
        };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.WriteBatchAsync(batch, CancellationToken.None));
        Assert.Contains("m1", error.Message, StringComparison.Ordinal);
        Assert.Empty((await store.QueryWindowsAsync(new WindowQuery(), CancellationToken.None)).Items);
        Assert.Empty(await store.LoadCheckpointsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task LatestAndOpenAlerts_AfterACrashLeftTwoOpen_NewestPerMachineAndEveryOpenOne()
    {
        var store = await NewStore();
        float[] sig = [1, 0, 0, 0, 0, 0];
        var m1Closed = Alert("m1", 0, sig) with { Episode = 1 };
        var m1Stale = Alert("m1", 100, sig, "open") with { Episode = 2 };
        var m1Live = Alert("m1", 200, sig, "open") with { Episode = 3 };
        var m2Idle = Alert("m2", 50, sig) with { Episode = 4, CloseReason = "machine_idle" };
        await store.WriteBatchAsync(new HistoryBatch { Alerts = [m1Live, m2Idle, m1Closed, m1Stale] }, CancellationToken.None);

        var latest = await store.LatestAlertsAsync(CancellationToken.None);
        Assert.Equal([(m1Live.Id, 3L, (string?)null), (m2Idle.Id, 4L, "machine_idle")], latest.Select(a => (a.Id, a.Episode, a.CloseReason)));
        var open = await store.OpenAlertsAsync(CancellationToken.None);
        Assert.Equal([m1Stale.Id, m1Live.Id], open.Select(a => a.Id));

        // What the monitor does at start: close all but the newest open episode of each machine.
        await store.WriteBatchAsync(new HistoryBatch { Alerts = [m1Stale with { Status = "closed", ClosedAt = T0.AddSeconds(300), CloseReason = "monitor_restarted" }] }, CancellationToken.None);
        Assert.Equal([m1Live.Id], (await store.OpenAlertsAsync(CancellationToken.None)).Select(a => a.Id));
        var closed = await store.GetAlertAsync(m1Stale.Id, CancellationToken.None);
        Assert.Equal(("closed", "monitor_restarted", T0.AddSeconds(300)), (closed!.Status, closed.CloseReason, closed.ClosedAt));
        var queried = await store.QueryAlertsAsync(new AlertQuery { Machine = "m1", Status = "closed" }, CancellationToken.None);
        Assert.Equal([("monitor_restarted", m1Stale.Id), (null, m1Closed.Id)], queried.Items.Select(a => (a.CloseReason, a.Id)));
        Assert.Empty(await (await NewStore()).LatestAlertsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task LoadCheckpoint_OneMachine_TheRowLoadCheckpointsReads_NullWithoutOne()
    {
        var store = await NewStore();
        var batch = new HistoryBatch
        {
            Checkpoints = [Checkpoint("m1", 5, 1f), Checkpoint("m2", 4, 2f), Checkpoint("m1", 6, 3f, sinceEmit: 1, emitted: 8), new WindowCheckpoint("m3", [], [], 0, 0)],
        };
        await store.WriteBatchAsync(batch, CancellationToken.None);

        var all = await store.LoadCheckpointsAsync(CancellationToken.None);
        foreach (var expected in all)
        {
            AssertSame(expected, (await store.LoadCheckpointAsync(expected.Machine, CancellationToken.None))!);
        }

        AssertSame(batch.Checkpoints[2], (await store.LoadCheckpointAsync("m1", CancellationToken.None))!); // of m1's two, the last in the list
        AssertSame(batch.Checkpoints[3], (await store.LoadCheckpointAsync("m3", CancellationToken.None))!); // an empty buffer
        Assert.Null(await store.LoadCheckpointAsync("m9", CancellationToken.None));
        Assert.Null(await store.LoadCheckpointAsync("M1", CancellationToken.None)); // machine ids are exact

        await store.WriteBatchAsync(new HistoryBatch { RemovedCheckpoints = ["m2"] }, CancellationToken.None);
        Assert.Null(await store.LoadCheckpointAsync("m2", CancellationToken.None));
        Assert.NotNull(await store.LoadCheckpointAsync("m1", CancellationToken.None));
    }

    [Fact]
    public async Task LatestAlert_OneMachine_TheEpisodeLatestAlertsPicks_NullWithoutOne()
    {
        var store = await NewStore();
        float[] sig = [1, 0, 0, 0, 0, 0];
        AlertRecord Episode(string machine, int second, long episode, string status = "closed") => Alert(machine, second, sig, status) with { Episode = episode };

        // m1: a closed episode, a stale open one and the live one; m2: one closed when the machine went idle; m3: two
        // episodes since the same time, of which the higher episode number is the newer.
        AlertRecord[] stored =
        [
            Episode("m1", 200, 3, "open"), Episode("m2", 50, 4) with { CloseReason = "machine_idle" }, Episode("m3", 10, 6, "open") with { Id = "m3:second" },
            Episode("m1", 0, 1), Episode("m1", 100, 2, "open"), Episode("m3", 10, 5) with { Id = "m3:first" },
        ];
        var (m1Live, m2Idle, m3Second) = (stored[0], stored[1], stored[2]);
        await store.WriteBatchAsync(new HistoryBatch { Alerts = stored }, CancellationToken.None);
        await store.AddFeedbackAsync(m1Live.Id, FeedbackKind.Confirm, new FeedbackAuthor("ana"), null, T0.AddHours(1), CancellationToken.None);

        var latest = await store.LatestAlertsAsync(CancellationToken.None);
        Assert.Equal(["m1", "m2", "m3"], latest.Select(a => a.Machine));
        foreach (var expected in latest)
        {
            var one = await store.LatestAlertAsync(expected.Machine, CancellationToken.None);
            Assert.NotNull(one);
            Assert.Equal(
                (expected.Id, expected.Episode, expected.Status, expected.Since, expected.ClosedAt, expected.CloseReason, expected.LastFeedback, expected.PeakScore),
                (one.Id, one.Episode, one.Status, one.Since, one.ClosedAt, one.CloseReason, one.LastFeedback, one.PeakScore));
            Assert.Equal(expected.Signature, one.Signature);
            Assert.Equal(expected.ChannelContributions, one.ChannelContributions);
            Assert.Equal(expected.TopFilters, one.TopFilters);
        }

        var m1 = await store.LatestAlertAsync("m1", CancellationToken.None);
        Assert.Equal((m1Live.Id, 3L, "open", "confirm"), (m1!.Id, m1.Episode, m1.Status, m1.LastFeedback));
        var m2 = await store.LatestAlertAsync("m2", CancellationToken.None);
        Assert.Equal((m2Idle.Id, "machine_idle"), (m2!.Id, m2.CloseReason));
        Assert.Equal(m3Second.Id, (await store.LatestAlertAsync("m3", CancellationToken.None))!.Id);
        Assert.Null(await store.LatestAlertAsync("m9", CancellationToken.None));

        // A newer episode of m1 takes over; a closed one is still the latest.
        var m1Next = Episode("m1", 300, 7);
        await store.UpsertAlertsAsync([m1Next], CancellationToken.None);
        var next = await store.LatestAlertAsync("m1", CancellationToken.None);
        Assert.Equal((m1Next.Id, 7L, "closed"), (next!.Id, next.Episode, next.Status));
        Assert.Null(await (await NewStore()).LatestAlertAsync("m1", CancellationToken.None));
    }
}
