namespace TSViz.Plugins.History.Sqlite;

/// <summary>Operators' feedback in the feedback table (kinds by their names, <see cref="FeedbackKinds"/>).</summary>
internal sealed class SqliteFeedbackStore(SqliteConnectionFactory connections) : IFeedbackStore
{
    public async Task<FeedbackRecord?> AddFeedbackAsync(string alertId, FeedbackKind kind, FeedbackAuthor author, string? comment, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(author);
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO feedback (alert_id, kind, author, comment, at, author_role, author_method)
            SELECT $alert, $kind, $author, $comment, $at, $role, $method WHERE EXISTS (SELECT 1 FROM alerts WHERE id = $alert)
            RETURNING id;
            """;
        command.Parameters.AddWithValue("$alert", alertId);
        command.Parameters.AddWithValue("$kind", FeedbackKinds.Name(kind));
        command.Parameters.AddWithValue("$author", author.Name);
        command.Parameters.AddWithValue("$role", (object?)author.Role ?? DBNull.Value);
        command.Parameters.AddWithValue("$method", (object?)author.Method ?? DBNull.Value);
        command.Parameters.AddWithValue("$comment", (object?)comment ?? DBNull.Value);
        command.Parameters.AddWithValue("$at", ColumnCodec.Milliseconds(at));
        var id = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return id is null ? null : new FeedbackRecord((long)id, alertId, kind, author.Name, comment, ColumnCodec.Time(ColumnCodec.Milliseconds(at)))
        {
            AuthorRole = author.Role,
            AuthorMethod = author.Method,
        };
    }

    public async Task<IReadOnlyList<FeedbackRecord>> FeedbackAsync(string alertId, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, alert_id, kind, author, comment, at, author_role, author_method FROM feedback WHERE alert_id = $alert ORDER BY at, id;";
        command.Parameters.AddWithValue("$alert", alertId);
        var items = new List<FeedbackRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        int id = reader.GetOrdinal("id");
        int alert = reader.GetOrdinal("alert_id");
        int kind = reader.GetOrdinal("kind");
        int author = reader.GetOrdinal("author");
        int comment = reader.GetOrdinal("comment");
        int at = reader.GetOrdinal("at");
        int role = reader.GetOrdinal("author_role");
        int method = reader.GetOrdinal("author_method");
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new FeedbackRecord(reader.GetInt64(id), reader.GetString(alert), FeedbackKinds.Parse(reader.GetString(kind)), reader.GetString(author),
                reader.GetStringOrNull(comment), reader.GetTime(at))
            {
                AuthorRole = reader.GetStringOrNull(role),
                AuthorMethod = reader.GetStringOrNull(method),
            });
        }

        return items;
    }
}
