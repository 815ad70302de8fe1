using System.Data;
using System.Text.Json;
using TSViz.Plugins.Drift;

namespace TSViz.Plugins.History.Ado;

/// <summary>Drift references in drift_profiles (JSON, one row per machine and model version), state changes in drift_events.</summary>
internal sealed class DbDriftStore(IHistoryConnections connections) : IDriftStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<IReadOnlyList<string>> ReferenceMachinesAsync(string modelVersion, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT DISTINCT machine FROM windows
            WHERE model_version = @model AND window_end >= @from AND window_end <= @to AND drift IS NOT NULL
            ORDER BY machine;
            """;
        command.Bind("model", modelVersion, DbType.String);
        command.Bind("from", ColumnCodec.Milliseconds(since), DbType.Int64);
        command.Bind("to", ColumnCodec.Milliseconds(until), DbType.Int64);
        return await DbRow.ReadAllAsync(command, connections.Dialect, row => row.String("machine"), cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DriftObservation>> ReferenceWindowsAsync(
        string machine, string modelVersion, DateTimeOffset since, DateTimeOffset until, int max, IReadOnlyList<string> channels, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channels);
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT w.window_end, w.score, {connections.Dialect.JsonColumn("w.contributions")} AS contributions,
                {connections.Dialect.JsonColumn("w.top_filters")} AS top_filters, w.drift
            FROM windows w
            WHERE w.machine = @machine AND w.window_end >= @from AND w.window_end <= @to AND w.model_version = @model
                AND w.decision = @normal AND w.alert_id IS NULL AND w.drift IS NOT NULL AND w.score IS NOT NULL
            ORDER BY w.window_end DESC LIMIT @limit;
            """;
        command.Bind("machine", machine, DbType.String);
        command.Bind("model", modelVersion, DbType.String);
        command.Bind("from", ColumnCodec.Milliseconds(since), DbType.Int64);
        command.Bind("to", ColumnCodec.Milliseconds(until), DbType.Int64);
        command.Bind("normal", false, DbType.Boolean);
        command.Bind("limit", Math.Max(1, max), DbType.Int32);
        var rows = await DbRow.ReadAllAsync(
            command,
            connections.Dialect,
            row =>
            {
                var contributions = ColumnCodec.Contributions(row.String("contributions"));
                var filters = ColumnCodec.Filters(row.String("top_filters")).Select(f => DriftObservation.FilterKey(f.Layer, f.Index)).ToList();
                return new DriftObservation(
                    row.Time("window_end"), (float)row.Double("score"), [.. channels.Select(c => contributions.GetValueOrDefault(c))], filters, ColumnCodec.Floats(row.Blob("drift")));
            },
            cancellationToken).ConfigureAwait(false);
        return [.. Enumerable.Reverse(rows)];
    }

    public async Task SaveDriftProfileAsync(DriftProfile profile, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(profile);
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO drift_profiles (machine, model_version, built_at, ref_from, ref_to, windows, document)
            VALUES (@machine, @model, @built, @from, @to, @windows, @document)
            ON CONFLICT (machine, model_version) DO UPDATE SET built_at = excluded.built_at, ref_from = excluded.ref_from,
                ref_to = excluded.ref_to, windows = excluded.windows, document = excluded.document;
            """;
        command.Bind("machine", profile.Machine, DbType.String);
        command.Bind("model", profile.ModelVersion, DbType.String);
        command.Bind("built", ColumnCodec.Milliseconds(profile.BuiltAt), DbType.Int64);
        command.Bind("from", ColumnCodec.Milliseconds(profile.From), DbType.Int64);
        command.Bind("to", ColumnCodec.Milliseconds(profile.To), DbType.Int64);
        command.Bind("windows", profile.Windows, DbType.Int32);
        command.Bind("document", JsonSerializer.Serialize(profile, Json), DbType.String);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DriftProfile>> DriftProfilesAsync(string modelVersion, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT machine, document FROM drift_profiles WHERE model_version = @model ORDER BY machine;";
        command.Bind("model", modelVersion, DbType.String);
        var rows = await DbRow.ReadAllAsync(command, connections.Dialect, row => (Machine: row.String("machine"), Document: row.String("document")), cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => Profile(r.Machine, modelVersion, r.Document))];
    }

    /// <summary>A stored profile; one that cannot be read is named with its fix, never skipped unsaid.</summary>
    private static DriftProfile Profile(string machine, string modelVersion, string document)
    {
        try
        {
            return JsonSerializer.Deserialize<DriftProfile>(document, Json) ?? throw new JsonException("the document is null");
        }
        catch (JsonException e)
        {
            throw new HistoryStoreException(
                $"the drift reference of {machine} for model {modelVersion} in the history cannot be read ({e.Message}): delete its row from drift_profiles and run the drift job to build it again", e);
        }
    }

    public async Task AddDriftEventsAsync(IReadOnlyList<DriftEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var e in events)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO drift_events (machine, model_version, at, kind, state, value, threshold, moved, summary)
                VALUES (@machine, @model, @at, @kind, @state, @value, @threshold, @moved, @summary);
                """;
            command.Bind("machine", e.Machine, DbType.String);
            command.Bind("model", e.ModelVersion, DbType.String);
            command.Bind("at", ColumnCodec.Milliseconds(e.At), DbType.Int64);
            command.Bind("kind", e.Kind, DbType.String);
            command.Bind("state", e.State, DbType.String);
            command.Bind("value", e.Value, DbType.Double);
            command.Bind("threshold", e.Threshold, DbType.Double);
            command.Bind("moved", JsonSerializer.Serialize(e.Moved, Json), DbType.String);
            command.Bind("summary", e.Summary, DbType.String);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DriftEvent>> DriftEventsAsync(string? machine, DateTimeOffset? since, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT id, machine, model_version, at, kind, state, value, threshold, moved, summary FROM drift_events
            WHERE {(machine is null ? "1 = 1" : "machine = @machine")} AND at >= @since
            ORDER BY at DESC, id DESC LIMIT @limit;
            """;
        if (machine is not null)
        {
            command.Bind("machine", machine, DbType.String);
        }

        command.Bind("since", since is { } s ? ColumnCodec.Milliseconds(s) : long.MinValue, DbType.Int64);
        command.Bind("limit", Math.Max(1, limit), DbType.Int32);
        return await DbRow.ReadAllAsync(
            command,
            connections.Dialect,
            row => new DriftEvent(
                row.String("machine"), row.String("model_version"), row.Time("at"), row.String("kind"), row.String("state"), row.Double("value"), row.Double("threshold"),
                JsonSerializer.Deserialize<DriftMove>(row.String("moved"), Json)!, row.String("summary"))
            { Id = row.Int64("id") },
            cancellationToken).ConfigureAwait(false);
    }
}
