using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using TSViz.Monitor.Cli;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;

namespace TSViz.Monitor.History;

/// <summary>
/// `history`: the explanation history from the command line, read straight from the SQLite file (the monitor may be
/// running: WAL lets readers in). JSON lines out, one record per line, the same shapes as the HTTP API.
/// </summary>
internal static class HistoryVerb
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var db = new Option<string>("--db") { Description = "The history file.", DefaultValueFactory = _ => new HistorySettings().Path, Recursive = true };
        var machine = new Option<string?>("--machine") { Description = "Only this machine." };
        var from = new Option<string?>("--from") { Description = "From this time (ISO 8601)." };
        var to = new Option<string?>("--to") { Description = "Before this time (ISO 8601)." };
        var minScore = new Option<double?>("--min-score") { Description = "Only scores (alert peaks) at or above this." };
        var channel = new Option<string?>("--channel") { Description = "Only this dominant channel." };
        var limit = new Option<int>("--limit") { Description = "At most this many records.", DefaultValueFactory = _ => 100 };
        var reason = new Option<string?>("--reason") { Description = "windows: anomaly, normal or insufficient_data." };
        var status = new Option<string?>("--status") { Description = "alerts: open or closed." };
        var id = new Argument<string>("id") { Description = "A window or alert id." };

        var windows = new Command("windows", "Scored windows, newest first.") { machine, from, to, minScore, channel, limit, reason };
        windows.SetAction((parse, ct) => Run(error, parse.GetValue(db)!, async store =>
        {
            var page = await store.QueryWindowsAsync(new WindowQuery
            {
                Machine = parse.GetValue(machine), From = Time(parse.GetValue(from), "--from"), To = Time(parse.GetValue(to), "--to"),
                MinScore = parse.GetValue(minScore), DominantChannel = parse.GetValue(channel), ReasonCode = OneOf(parse.GetValue(reason), "--reason", HistoryApi.ReasonCodes), Limit = Limit(parse.GetValue(limit)),
            }, ct).ConfigureAwait(false);
            Write(output, page.Items.Select(w => HistoryApi.WindowBody(w, full: false)));
        }));

        var alerts = new Command("alerts", "Alert episodes, newest first.") { machine, from, to, minScore, channel, limit, status };
        alerts.SetAction((parse, ct) => Run(error, parse.GetValue(db)!, async store =>
        {
            var page = await store.QueryAlertsAsync(new AlertQuery
            {
                Machine = parse.GetValue(machine), From = Time(parse.GetValue(from), "--from"), To = Time(parse.GetValue(to), "--to"),
                MinScore = parse.GetValue(minScore), DominantChannel = parse.GetValue(channel), Status = OneOf(parse.GetValue(status), "--status", HistoryApi.Statuses), Limit = Limit(parse.GetValue(limit)),
            }, ct).ConfigureAwait(false);
            Write(output, page.Items.Select(HistoryApi.AlertBody));
        }));

        var window = new Command("window", "One window with its full explanation and input when kept.") { id };
        window.SetAction((parse, ct) => Run(error, parse.GetValue(db)!, async store =>
        {
            var record = await store.GetWindowAsync(parse.GetValue(id)!, ct).ConfigureAwait(false)
                ?? throw new ArgumentException($"no window '{parse.GetValue(id)}' in the history");
            Write(output, [HistoryApi.WindowBody(record, full: true)]);
        }));

        var similar = new Command("similar", "Past alerts whose explanation resembles this alert's, most similar first.") { id, limit };
        similar.SetAction((parse, ct) => Run(error, parse.GetValue(db)!, async store =>
        {
            if (await store.GetAlertAsync(parse.GetValue(id)!, ct).ConfigureAwait(false) is null)
            {
                throw new ArgumentException($"no alert '{parse.GetValue(id)}' in the history");
            }

            var found = await store.SimilarAlertsAsync(parse.GetValue(id)!, Math.Min(100, parse.GetValue(limit)), ct).ConfigureAwait(false);
            Write(output, found.Select(s => new { similarity = s.Similarity, alert = HistoryApi.AlertBody(s.Alert) }));
        }));

        var command = new Command("history", "Query the explanation history (windows, alerts, one window, similar alerts) from its SQLite file.")
        {
            db, windows, alerts, window, similar,
        };
        return command;
    }

    private static DateTimeOffset? Time(string? text, string option)
        => text is null ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time) ? time
        : throw new ArgumentException($"{option} must be an ISO 8601 time such as 2026-11-26T02:00:00Z, got '{text}'");

    private static int Limit(int value)
        => value is >= 1 and <= 1000 ? value : throw new ArgumentException($"--limit must lie in 1..1000, got {value}");

    private static string? OneOf(string? value, string option, string[] allowed)
        => value is null || allowed.Contains(value, StringComparer.Ordinal) ? value
        : throw new ArgumentException($"{option} must be one of {string.Join(", ", allowed)}, got '{value}'");

    private static Task<int> Run(TextWriter error, string path, Func<IHistoryQueries, Task> query)
        => VerbErrors.RunAsync(error, async () =>
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"no history at {path} (the monitor writes it to Monitor:History:Path; pass --db)");
            }

            await query(new SqliteHistoryStore(path)).ConfigureAwait(false);
            return 0;
        });

    private static void Write(TextWriter output, IEnumerable<object> items)
    {
        foreach (var item in items)
        {
            output.WriteLine(JsonSerializer.Serialize(item, JsonSerializerOptions.Web));
        }
    }
}
