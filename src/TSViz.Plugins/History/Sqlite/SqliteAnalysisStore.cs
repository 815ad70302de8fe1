namespace TSViz.Plugins.History.Sqlite;

/// <summary>The nightly analysis's input (the kept input windows, from window_details) and its results (the analyses table).</summary>
internal sealed class SqliteAnalysisStore(SqliteConnectionFactory connections) : IAnalysisStore
{
    public async Task<IReadOnlyList<StoredInput>> InputWindowsAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT w.id, w.machine, w.window_end, w.score, d.input, d.channels, d.length
            FROM window_details d JOIN windows w ON w.id = d.id
            WHERE d.window_end >= $since ORDER BY d.window_end DESC LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$since", ColumnCodec.Milliseconds(since));
        command.Parameters.AddWithValue("$limit", Math.Max(1, limit));
        var items = new List<StoredInput>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        int id = reader.GetOrdinal("id");
        int machine = reader.GetOrdinal("machine");
        int end = reader.GetOrdinal("window_end");
        int score = reader.GetOrdinal("score");
        int input = reader.GetOrdinal("input");
        int channels = reader.GetOrdinal("channels");
        int length = reader.GetOrdinal("length");
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new StoredInput(reader.GetString(id), reader.GetString(machine), reader.GetTime(end), reader.GetFloatOrNull(score),
                ColumnCodec.Floats(reader.GetBlob(input)), reader.GetInt32(channels), reader.GetInt32(length)));
        }

        return items;
    }

    public async Task<AnalysisRecord> SaveAnalysisAsync(string job, string model, string modelVersion, DateTimeOffset at, int windows, string summaryJson, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO analyses (job, model, model_version, at, windows, summary) VALUES ($job, $model, $version, $at, $windows, $summary) RETURNING id;";
        command.Parameters.AddWithValue("$job", job);
        command.Parameters.AddWithValue("$model", model);
        command.Parameters.AddWithValue("$version", modelVersion);
        command.Parameters.AddWithValue("$at", ColumnCodec.Milliseconds(at));
        command.Parameters.AddWithValue("$windows", windows);
        command.Parameters.AddWithValue("$summary", summaryJson);
        long id = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return new AnalysisRecord(id, job, model, modelVersion, ColumnCodec.Time(ColumnCodec.Milliseconds(at)), windows, summaryJson);
    }

    public async Task<IReadOnlyList<AnalysisRecord>> AnalysesAsync(string? job, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, job, model, model_version, at, windows, summary FROM analyses {(job is null ? string.Empty : "WHERE job = $job")} ORDER BY at DESC, id DESC LIMIT $limit;";
        if (job is not null)
        {
            command.Parameters.AddWithValue("$job", job);
        }

        command.Parameters.AddWithValue("$limit", Math.Clamp(limit, 1, 1000));
        var items = new List<AnalysisRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        int id = reader.GetOrdinal("id");
        int jobColumn = reader.GetOrdinal("job");
        int model = reader.GetOrdinal("model");
        int version = reader.GetOrdinal("model_version");
        int at = reader.GetOrdinal("at");
        int windows = reader.GetOrdinal("windows");
        int summary = reader.GetOrdinal("summary");
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new AnalysisRecord(reader.GetInt64(id), reader.GetString(jobColumn), reader.GetString(model), reader.GetString(version),
                reader.GetTime(at), reader.GetInt32(windows), reader.GetString(summary)));
        }

        return items;
    }
}
