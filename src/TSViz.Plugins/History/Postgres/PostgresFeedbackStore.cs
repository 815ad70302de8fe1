using NpgsqlTypes;
using TSViz.Plugins.History.Sqlite;

namespace TSViz.Plugins.History.Postgres;

/// <summary>Operators' feedback in the feedback table (kinds by their names, <see cref="FeedbackKinds"/>).</summary>
internal sealed class PostgresFeedbackStore(PostgresConnectionFactory connections) : IFeedbackStore
{
    public async Task<FeedbackRecord?> AddFeedbackAsync(string alertId, FeedbackKind kind, FeedbackAuthor author, string? comment, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(author);
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO feedback (alert_id, kind, author, comment, at, author_role, author_method)
            SELECT @alert, @kind, @author, @comment, @at, @role, @method WHERE EXISTS (SELECT 1 FROM alerts WHERE id = @alert)
            RETURNING id;
            """;
        command.Parameters.AddWithValue("alert", NpgsqlDbType.Text, alertId);
        command.Parameters.AddWithValue("kind", NpgsqlDbType.Text, FeedbackKinds.Name(kind));
        command.Parameters.AddWithValue("author", NpgsqlDbType.Text, author.Name);
        command.Parameters.AddWithValue("role", NpgsqlDbType.Text, (object?)author.Role ?? DBNull.Value);
        command.Parameters.AddWithValue("method", NpgsqlDbType.Text, (object?)author.Method ?? DBNull.Value);
        command.Parameters.AddWithValue("comment", NpgsqlDbType.Text, (object?)comment ?? DBNull.Value);
        command.Parameters.AddWithValue("at", NpgsqlDbType.Bigint, ColumnCodec.Milliseconds(at));
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
        command.CommandText = "SELECT id, alert_id, kind, author, comment, at, author_role, author_method FROM feedback WHERE alert_id = @alert ORDER BY at, id;";
        command.Parameters.AddWithValue("alert", alertId);
        return await PostgresRow.ReadAllAsync(
            command,
            row => new FeedbackRecord(row.Int64("id"), row.String("alert_id"), FeedbackKinds.Parse(row.String("kind")), row.String("author"), row.StringOrNull("comment"), row.Time("at"))
            {
                AuthorRole = row.StringOrNull("author_role"),
                AuthorMethod = row.StringOrNull("author_method"),
            },
            cancellationToken).ConfigureAwait(false);
    }
}
