namespace TSViz.Plugins.History.Ado;

/// <summary>The nightly analysis's input (the kept input windows, from window_details) and its results (the analyses table).</summary>
internal sealed class DbAnalysisStore(IHistoryConnections connections) : IAnalysisStore
{
    public async Task<IReadOnlyList<StoredInput>> InputWindowsAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT w.id, w.machine, w.window_end, w.score, d.input, d.channels, d.length
            FROM window_details d JOIN windows w ON w.id = d.id
            WHERE d.window_end >= @since ORDER BY d.window_end DESC LIMIT @limit;
            """;
        command.Bind("since", ColumnCodec.Milliseconds(since));
        command.Bind("limit", Math.Max(1, limit));
        return await DbRow.ReadAllAsync(
            command,
            connections.Dialect,
            row => new StoredInput(row.String("id"), row.String("machine"), row.Time("window_end"), row.FloatOrNull("score"),
                ColumnCodec.Floats(row.Blob("input")), row.Int32("channels"), row.Int32("length")),
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<AnalysisRecord> SaveAnalysisAsync(string job, string model, string modelVersion, DateTimeOffset at, int windows, string summaryJson, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO analyses (job, model, model_version, at, windows, summary) VALUES (@job, @model, @version, @at, @windows, @summary) RETURNING id;";
        command.Bind("job", job);
        command.Bind("model", model);
        command.Bind("version", modelVersion);
        command.Bind("at", ColumnCodec.Milliseconds(at));
        command.Bind("windows", windows);
        command.Bind("summary", summaryJson);
        long id = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return new AnalysisRecord(id, job, model, modelVersion, ColumnCodec.Time(ColumnCodec.Milliseconds(at)), windows, summaryJson);
    }

    public async Task<IReadOnlyList<AnalysisRecord>> AnalysesAsync(string? job, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, job, model, model_version, at, windows, summary FROM analyses {(job is null ? string.Empty : "WHERE job = @job")} ORDER BY at DESC, id DESC LIMIT @limit;";
        if (job is not null)
        {
            command.Bind("job", job);
        }

        command.Bind("limit", Math.Clamp(limit, 1, 1000));
        return await DbRow.ReadAllAsync(
            command,
            connections.Dialect,
            row => new AnalysisRecord(row.Int64("id"), row.String("job"), row.String("model"), row.String("model_version"), row.Time("at"), row.Int32("windows"), row.String("summary")),
            cancellationToken).ConfigureAwait(false);
    }
}
