using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Monitor.Tests.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Jobs;

/// <summary>
/// Drift end to end: the simulator's machines stream into the monitor, the drift job builds their references from the
/// stored normal windows, then one machine's pressure level steps up; the monitor raises input drift on that machine
/// (retained on MQTT, in Prometheus, in the API with the distributions side by side, in the history's events) and not
/// on the other.
/// </summary>
public sealed class DriftJobTests
{
    private const int Rolling = 40;
    private const int MinReference = 240;

    [Fact]
    public async Task LevelShiftOnOneMachine_RaisesInputDriftThere_NamingThePressureLevel_AndNotOnTheOther()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var monitor = await JobsTestMonitor.StartAsync(database, simulator: true, cancel.Token, new Dictionary<string, string?>
        {
            ["Monitor:Simulator:RateHz"] = "300",
            ["Monitor:Simulator:AnomalyEverySeconds"] = "0",
            // m2's pressure steps up by 1.5 bar once the references are built (a sensor offset, a valve change).
            ["Monitor:Simulator:Drift:0"] = "m2:level:pressure=1.5@25",
            ["Monitor:Drift:RollingWindows"] = Rolling.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Drift:MinReferenceWindows"] = MinReference.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Drift:PublishEveryWindows"] = "10",
            ["Monitor:Drift:BuildWhenReady"] = "false", // this test runs the job itself
        });

        // Before any reference: the machines say so.
        await LiveTestMonitor.Until(() => Drift(monitor, cancel.Token).Count == 2, cancel.Token, () => string.Join(" | ", Drift(monitor, CancellationToken.None).Select(d => d.GetRawText())));
        Assert.All(Drift(monitor, cancel.Token), d => Assert.Equal("no_reference", d.GetProperty("state").GetString()));

        string Count(string machine) => $"SELECT COUNT(*) FROM windows WHERE machine = '{machine}' AND drift IS NOT NULL AND decision = 0 AND alert_id IS NULL";
        await LiveTestMonitor.Until(
            () => JobsTestMonitor.Scalar(database, Count("line1/m1")) >= MinReference + 60 && JobsTestMonitor.Scalar(database, Count("line1/m2")) >= MinReference + 60,
            cancel.Token, () => $"normal windows stored: {JobsTestMonitor.Scalar(database, Count("line1/m1"))}, {JobsTestMonitor.Scalar(database, Count("line1/m2"))}");
        var run = await monitor.RunJobAsync("drift", cancel.Token);
        Assert.True(run.GetProperty("outcome").GetString() == "succeeded", run.GetRawText());
        Assert.Contains(": 2 built, 0 kept, 0 machines with fewer than", run.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Built once: a second run keeps them (a slow drift is not absorbed into the reference).
        var again = await monitor.RunJobAsync("drift", cancel.Token);
        Assert.Contains(": 0 built, 2 kept", again.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The step: m2 drifts in its input, named as pressure's level.
        await LiveTestMonitor.Until(() => State(monitor, "line1/m2", cancel.Token) == "drift", cancel.Token, () => string.Join(" | ", Drift(monitor, CancellationToken.None).Select(d => d.GetRawText())));
        using var detail = JsonDocument.Parse(await monitor.Http.GetStringAsync(new Uri("/api/drift/machine?machine=line1%2Fm2", UriKind.Relative), cancel.Token));
        var message = detail.RootElement.GetProperty("drift");
        var input = message.GetProperty("kinds").EnumerateArray().Single(k => k.GetProperty("kind").GetString() == "input");
        Assert.Equal("drift", input.GetProperty("state").GetString());
        Assert.True(input.GetProperty("value").GetDouble() > input.GetProperty("threshold").GetDouble(), input.GetRawText());
        var moved = input.GetProperty("moved");
        Assert.Equal("level", moved.GetProperty("component").GetString());
        Assert.Equal("pressure", moved.GetProperty("channel").GetString());
        Assert.True(moved.GetProperty("to").GetDouble() - moved.GetProperty("from").GetDouble() > 1, moved.GetRawText());
        Assert.StartsWith("pressure level ", moved.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("input drift: pressure level", message.GetProperty("summary").GetString(), StringComparison.Ordinal);
        var pressure = detail.RootElement.GetProperty("distributions").EnumerateArray()
            .Single(d => d.GetProperty("component").GetString() == "level" && d.GetProperty("channel").GetString() == "pressure");
        int bins = pressure.GetProperty("edges").GetArrayLength() + 1;
        Assert.Equal(bins, pressure.GetProperty("reference").GetArrayLength());
        Assert.Equal(bins, pressure.GetProperty("current").GetArrayLength());
        // The current windows sit above everything the reference saw.
        Assert.True(pressure.GetProperty("current")[bins - 1].GetDouble() > 0.5, pressure.GetRawText());

        // The other machine did not drift in its input.
        Assert.NotEqual("drift", Kind(monitor, "line1/m1", "input", cancel.Token));

        // Prometheus, the history's events, the retained topic.
        string metrics = await monitor.MetricsAsync(cancel.Token);
        Assert.Equal(1, LiveTestMonitor.Metric(metrics, "tsviz_drift_state{machine=\"line1/m2\",kind=\"input\"}"));
        Assert.Equal(2, LiveTestMonitor.Metric(metrics, "tsviz_drift_references"));
        Assert.True(LiveTestMonitor.Metric(metrics, "tsviz_drift_windows_total{outcome=\"compared\"}") > 0);
        Assert.True(LiveTestMonitor.Metric(metrics, "tsviz_drift_divergence{machine=\"line1/m2\",kind=\"input\"}")
            > LiveTestMonitor.Metric(metrics, "tsviz_drift_threshold{machine=\"line1/m2\",kind=\"input\"}"));
        await LiveTestMonitor.Until(() => Events(monitor, cancel.Token).Any(e => e.GetProperty("kind").GetString() == "input" && e.GetProperty("state").GetString() == "drift"), cancel.Token);
        var stored = Events(monitor, cancel.Token).First(e => e.GetProperty("kind").GetString() == "input");
        Assert.Equal("line1/m2", stored.GetProperty("machine").GetString());
        Assert.StartsWith("input drift on line1/m2: pressure level ", stored.GetProperty("summary").GetString(), StringComparison.Ordinal);

        // The web view: the machine's state and its distributions, the reference's and the current's bars side by side.
        string shots = Path.Combine(RepositoryPaths.Root, "artifacts", "screenshots");
        Directory.CreateDirectory(shots);
        string page = await Web.WebViewTests.Render($"{monitor.Http.BaseAddress!.ToString().TrimEnd('/')}/#/drift?machine=line1%2Fm2", Path.Combine(shots, "drift.png"), cancel.Token);
        Web.WebViewTests.NoPageErrors(page);
        Assert.Contains("<p id=\"drift-state\" class=\"drift-drift\" data-state=\"drift\">", page, StringComparison.Ordinal);
        var figure = System.Text.RegularExpressions.Regex.Match(page, "<figure class=\"drift-distribution\" data-component=\"level\" data-channel=\"pressure\">(?<body>.*?)</figure>", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(figure.Success, "no pressure level distribution on the page");
        Assert.Equal(bins, System.Text.RegularExpressions.Regex.Count(figure.Groups["body"].Value, "<rect class=\"ref\""));
        Assert.Equal(bins, System.Text.RegularExpressions.Regex.Count(figure.Groups["body"].Value, "<rect class=\"cur\""));
        Assert.Contains("input drift on line1/m2: pressure level", page, StringComparison.Ordinal);
        string list = await Web.WebViewTests.Render($"{monitor.Http.BaseAddress!.ToString().TrimEnd('/')}/#/drift", Path.Combine(shots, "drift-list.png"), cancel.Token);
        Web.WebViewTests.NoPageErrors(list);
        Assert.Contains("<tr data-machine=\"line1/m2\" data-state=\"drift\">", list, StringComparison.Ordinal);

        using var client = new MqttClientFactory().CreateMqttClient();
        var retained = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ApplicationMessageReceivedAsync += e =>
        {
            retained.TrySetResult(JsonDocument.Parse(Encoding.UTF8.GetString(e.ApplicationMessage.Payload)).RootElement.Clone());
            return Task.CompletedTask;
        };
        await MqttTestClients.ConnectWithRetry(client, new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", monitor.MqttPort).WithClientId("drift-viewer").Build(), cancel.Token);
        await client.SubscribeAsync("tsviz/v1/line1/m2/drift", MqttQualityOfServiceLevel.AtLeastOnce, cancel.Token);
        var first = await retained.Task.WaitAsync(cancel.Token);
        Assert.Equal("line1/m2", first.GetProperty("machine").GetString());
        Assert.Equal("drift", first.GetProperty("state").GetString());
    }

    [Fact]
    public async Task BuildWhenReady_AMachineWithEnoughNormalWindows_GetsItsReferenceWithoutWaitingForTheNight()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var monitor = await JobsTestMonitor.StartAsync(database, simulator: true, cancel.Token, new Dictionary<string, string?>
        {
            ["Monitor:Simulator:RateHz"] = "300",
            ["Monitor:Simulator:AnomalyEverySeconds"] = "0",
            ["Monitor:Drift:RollingWindows"] = "20",
            ["Monitor:Drift:MinReferenceWindows"] = "80",
        });

        // Nobody triggers the job: the monitor does, for the machines without a reference, once they have enough windows.
        await LiveTestMonitor.Until(
            () => Drift(monitor, cancel.Token) is { Count: 2 } all && all.All(d => d.GetProperty("state").GetString() is "normal" or "drift"),
            cancel.Token, () => string.Join(" | ", Drift(monitor, CancellationToken.None).Select(d => d.GetProperty("machine").GetString() + " " + d.GetProperty("state").GetString())));
        var run = (await monitor.JobAsync("drift", cancel.Token)).GetProperty("lastRun");
        Assert.StartsWith("monitor (", run.GetProperty("triggeredBy").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, JobsTestMonitor.Scalar(database, "SELECT COUNT(*) FROM drift_profiles"));
    }

    [Fact]
    public async Task UnreadableReference_TheMonitorStillStarts_TheJobFailsNamingTheMachineAndTheFix()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var store = new TSViz.Plugins.History.Sqlite.SqliteHistoryStore(database);
        await store.InitializeAsync(cancel.Token);
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False"))
        {
            connection.Open();
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO drift_profiles VALUES ('line1/m1', 'anomaly-cnn 1.0.0', 0, 0, 0, 1000, '{not json');";
            insert.ExecuteNonQuery();
        }

        await using var monitor = await JobsTestMonitor.StartAsync(database, simulator: false, cancel.Token);
        Assert.Empty(Drift(monitor, cancel.Token));
        var run = await monitor.RunJobAsync("drift", cancel.Token);
        Assert.Equal("failed", run.GetProperty("outcome").GetString());
        string error = run.GetProperty("error").GetString()!;
        Assert.Contains("the drift reference of line1/m1 for model anomaly-cnn 1.0.0 in the history cannot be read", error, StringComparison.Ordinal);
        Assert.Contains("delete its row from drift_profiles", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DriftApi_BadParameters_ProblemNamingThem_UnknownMachine404()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await using var monitor = await JobsTestMonitor.StartAsync(database, simulator: false, cancel.Token);
        foreach (var (path, parameter, status) in new[]
        {
            ("/api/drift/machine", "machine", HttpStatusCode.BadRequest),
            ("/api/drift/machine?machine=nowhere", "machine", HttpStatusCode.NotFound),
            ("/api/drift/events?since=yesterday", "since", HttpStatusCode.BadRequest),
            ("/api/drift/events?limit=0", "limit", HttpStatusCode.BadRequest),
        })
        {
            using var response = await monitor.Http.GetAsync(new Uri(path, UriKind.Relative), cancel.Token);
            string body = await response.Content.ReadAsStringAsync(cancel.Token);
            Assert.True(response.StatusCode == status, $"{path}: {response.StatusCode} {body}");
            Assert.Equal(parameter, JsonDocument.Parse(body).RootElement.GetProperty("parameter").GetString());
        }

        Assert.Empty(Drift(monitor, cancel.Token));
        Assert.Empty(Events(monitor, cancel.Token));
        var run = await monitor.RunJobAsync("drift", cancel.Token);
        Assert.Contains(": 0 built, 0 kept", run.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static List<JsonElement> Drift(JobsTestMonitor monitor, CancellationToken cancellationToken)
        => [.. monitor.GetAsync("/api/drift", cancellationToken).GetAwaiter().GetResult().EnumerateArray()];

    private static List<JsonElement> Events(JobsTestMonitor monitor, CancellationToken cancellationToken)
        => [.. monitor.GetAsync("/api/drift/events?machine=line1%2Fm2", cancellationToken).GetAwaiter().GetResult().EnumerateArray()];

    private static string? State(JobsTestMonitor monitor, string machine, CancellationToken cancellationToken)
        => Drift(monitor, cancellationToken).FirstOrDefault(d => d.GetProperty("machine").GetString() == machine) is { ValueKind: JsonValueKind.Object } d ? d.GetProperty("state").GetString() : null;

    private static string? Kind(JobsTestMonitor monitor, string machine, string kind, CancellationToken cancellationToken)
        => Drift(monitor, cancellationToken).FirstOrDefault(d => d.GetProperty("machine").GetString() == machine) is { ValueKind: JsonValueKind.Object } d
            ? d.GetProperty("kinds").EnumerateArray().FirstOrDefault(k => k.GetProperty("kind").GetString() == kind) is { ValueKind: JsonValueKind.Object } k ? k.GetProperty("state").GetString() : null
            : null;
}
