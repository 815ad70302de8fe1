using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TSViz.Monitor.Live;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Jobs;

/// <summary>
/// Recurring fault patterns: the nightly job groups stored alerts by their explanations, the API and the live matcher
/// say how often a pattern was seen, where, and what operators said about it.
/// </summary>
public sealed class PatternsJobTests
{
    private const string Model = "anomaly-cnn 1.0.0";

    [Fact]
    public void Cluster_PlantedKindsOfFault_EachItsOwnPattern_EveryTwoMembersAsSimilarAsTheCut()
    {
        var random = new Random(5);
        var alerts = new List<AlertRecord>();
        for (int i = 0; i < 30; i++)
        {
            // Three kinds of fault: where the model looked (step 1, 4 or 7) and which filter carried it.
            int kind = i % 3;
            alerts.Add(Alert($"m{i % 4}", i * 600, Signature(random, kind)));
        }

        alerts.Add(Alert("m9", 99_000, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1])); // a layout of its own elsewhere: never merged
        alerts[^1] = alerts[^1] with { SignatureSaliencyLength = 10 };
        var assignments = PatternClustering.Cluster(alerts, 0.8).ToDictionary(a => a.AlertId, a => a.PatternId);

        for (int kind = 0; kind < 3; kind++)
        {
            var members = alerts.Take(30).Where((_, i) => i % 3 == kind).ToList();
            Assert.Single(members.Select(m => assignments[m.Id]).Distinct());
            // Named after its earliest alert.
            Assert.Equal(PatternIds.Of(members.OrderBy(m => m.Since).First().Id), assignments[members[0].Id]);
            Assert.All(members, a => Assert.All(members, b => Assert.True(AlertSimilarity.Similarity(a, b) >= 0.8)));
        }

        Assert.Equal(4, assignments.Values.Distinct().Count());
        Assert.Equal(PatternIds.Of(alerts[^1].Id), assignments[alerts[^1].Id]);
        Assert.Empty(PatternClustering.Cluster([], 0.8));
    }

    [Fact]
    public void Cluster_TheSameSpikeAFewStepsApart_IsOnePattern_AnotherChannelIsAnother()
    {
        // 3 channels x 50 steps of saliency and 4 filters; a temperature spike at steps 40-46 in its peak window, and
        // a torque spike at the same steps. Without the shift tolerance the first kind would split by position.
        var contributions = new Dictionary<string, float> { ["pressure"] = 0.1f, ["temperature"] = 0.6f, ["torque"] = 0.3f };
        AlertRecord Spike(int i, int channel, int step)
        {
            var s = new float[154];
            s[(channel * 50) + step] = 1;
            s[(channel * 50) + step + 1] = 0.5f;
            s[150 + channel] = 1;
            s[153] = 0.2f;
            return Alert("m1", i * 60, s) with { SignatureSaliencyLength = 150, ChannelContributions = contributions };
        }

        List<AlertRecord> alerts = [Spike(0, 1, 40), Spike(1, 1, 43), Spike(2, 1, 46), Spike(3, 2, 40), Spike(4, 2, 46)];
        var patterns = PatternClustering.Cluster(alerts, 0.8).Select(a => a.PatternId).ToList();
        Assert.Equal([patterns[0], patterns[0], patterns[0], patterns[3], patterns[3]], patterns);
        Assert.NotEqual(patterns[0], patterns[3]);
        // The plain similarity (no shift) would not have grouped them: the saliency patterns do not overlap.
        Assert.True(AlertSimilarity.Similarity(alerts[0], alerts[2]) < 0.8);
        Assert.True(PatternSimilarity.Of(alerts[0], alerts[2]) > 0.99);
        // A spike shifted by more than a fifth of the window is another pattern.
        Assert.True(PatternSimilarity.Of(alerts[0], Spike(5, 1, 5)) < 0.8);
    }

    [Fact]
    public async Task Job_GroupsTheStoredAlerts_TheApiSaysWhatOperatorsSaid_AndANewLookAlikeJoinsLive()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var random = new Random(6);
        var now = DateTimeOffset.UtcNow;
        var overheating = Enumerable.Range(0, 5).Select(i => Alert(i % 2 == 0 ? "line1/m3" : "line1/m7", now.AddDays(-20 + i), Signature(random, 0))).ToList();
        var drift = Enumerable.Range(0, 3).Select(i => Alert("line1/m1", now.AddDays(-10 + i), Signature(random, 1))).ToList();
        var old = Alert("line1/m1", now.AddDays(-200), Signature(random, 0)); // older than Jobs:PatternDays
        var store = new SqliteHistoryStore(database);
        await store.InitializeAsync(cancel.Token);
        await store.UpsertAlertsAsync([.. overheating, .. drift, old], cancel.Token);
        for (int i = 0; i < 4; i++)
        {
            await store.AddFeedbackAsync(overheating[i].Id, FeedbackKind.Confirm, new FeedbackAuthor("ana"), i == 3 ? "bearing overheating" : null, now.AddDays(-15 + i), cancel.Token);
        }

        foreach (var d in drift)
        {
            await store.AddFeedbackAsync(d.Id, FeedbackKind.FalseAlarm, new FeedbackAuthor("ben"), "sensor drift", now.AddDays(-5), cancel.Token);
        }

        await using var monitor = await JobsTestMonitor.StartAsync(database, simulator: false, cancel.Token);
        var run = await monitor.RunJobAsync("patterns", cancel.Token);
        Assert.True(run.GetProperty("outcome").GetString() == "succeeded", run.GetRawText());
        Assert.Contains("grouped 8 alerts of the last 90 days into 2 patterns, 2 of them seen more than once", run.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Null(await store.PatternIdOfAsync(old.Id, cancel.Token));

        var pattern = await monitor.GetAsync($"/api/alerts/{Uri.EscapeDataString(overheating[4].Id)}/pattern", cancel.Token);
        Assert.Equal(5, pattern.GetProperty("occurrences").GetInt32());
        Assert.Equal(["line1/m3", "line1/m7"], pattern.GetProperty("machines").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(4, pattern.GetProperty("confirmed").GetInt32());
        Assert.False(pattern.GetProperty("mostlyFalseAlarms").GetBoolean());
        Assert.StartsWith("Seen 5 times on line1/m3 and line1/m7 between ", pattern.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("; 4 confirmed, 0 false alarms; last comment: bearing overheating.", pattern.GetProperty("summary").GetString(), StringComparison.Ordinal);
        var falseAlarms = await monitor.GetAsync($"/api/patterns/{PatternIds.Of(drift[0].Id)}", cancel.Token);
        Assert.True(falseAlarms.GetProperty("mostlyFalseAlarms").GetBoolean());
        Assert.Contains("3 false alarms: mostly false alarms", falseAlarms.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal([.. drift.Select(d => d.Id).Reverse()], falseAlarms.GetProperty("alertIds").EnumerateArray().Select(a => a.GetString()));
        using (var missing = await monitor.Http.GetAsync(new Uri("/api/patterns/p-000000000000", UriKind.Relative), cancel.Token))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        // A new alert that looks like the overheating ones joins their pattern at once; one like nothing before starts its own.
        var matcher = monitor.App.Services.GetRequiredService<AlertPatternMatcher>();
        var again = Alert("line1/m9", now, Signature(random, 0));
        var joined = matcher.Match(again);
        Assert.NotNull(joined);
        Assert.Equal(PatternIds.Of(overheating[0].Id), joined.Id);
        Assert.Equal(6, joined.Occurrences);
        Assert.Equal(["line1/m3", "line1/m7", "line1/m9"], joined.Machines);
        Assert.StartsWith("Seen 6 times on line1/m3, line1/m7 and line1/m9 between ", joined.Summary, StringComparison.Ordinal);
        var fresh = matcher.Match(Alert("line1/m9", now.AddMinutes(1), Signature(random, 2)));
        Assert.Equal("First time this pattern is seen.", fresh!.Summary);
        // Stored in the background: the API agrees.
        await Tests.Live.LiveTestMonitor.Until(() => store.PatternIdOfAsync(again.Id, cancel.Token).GetAwaiter().GetResult() == joined.Id, cancel.Token);
    }

    private static AlertRecord Alert(string machine, int seconds, float[] signature) => Alert(machine, DateTimeOffset.UnixEpoch.AddSeconds(seconds), signature);

    private static AlertRecord Alert(string machine, DateTimeOffset since, float[] signature) => new()
    {
        Id = $"{machine}:{since:O}:anomaly-cnn/1.0.0",
        Machine = machine,
        ModelVersion = Model,
        Episode = 1,
        Status = "closed",
        Since = since,
        PeakScore = 0.99,
        PeakWindowId = $"{machine}:{since:O}:w",
        Signature = signature,
        SignatureSaliencyLength = 9,
    };

    /// <summary>A saliency pattern of 9 steps peaking at step 1, 4 or 7 (by kind) and two filters' influence, with noise.</summary>
    private static float[] Signature(Random random, int kind)
    {
        var s = new float[11];
        for (int i = 0; i < 9; i++)
        {
            s[i] = (float)(0.05 * random.NextDouble());
        }

        s[(3 * kind) + 1] = 1;
        s[9] = kind == 1 ? 0.1f : 1;
        s[10] = kind == 1 ? 1 : 0.1f;
        return s;
    }
}
