using System.Data;

namespace TSViz.Plugins.History.Ado;

/// <summary>Operators' feedback in the feedback table (kinds by their names, <see cref="FeedbackKinds"/>).</summary>
internal sealed class DbFeedbackStore(IHistoryConnections connections) : IFeedbackStore
{
    public async Task<FeedbackRecord?> AddFeedbackAsync(string alertId, FeedbackKind kind, FeedbackAuthor author, string? comment, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(author);
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO feedback (alert_id, kind, author, comment, at, author_role, author_method)
            SELECT @alert, @kind, @author, @comment, @at, @role, @method WHERE EXISTS (SELECT 1 FROM alerts WHERE id = @alert)
            RETURNING id;
            """;
        command.Bind("alert", alertId, DbType.String);
        command.Bind("kind", FeedbackKinds.Name(kind), DbType.String);
        command.Bind("author", author.Name, DbType.String);
        command.Bind("role", author.Role, DbType.String);
        command.Bind("method", author.Method, DbType.String);
        command.Bind("comment", comment, DbType.String);
        command.Bind("at", ColumnCodec.Milliseconds(at), DbType.Int64);
        var id = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return id is null ? null : new FeedbackRecord((long)id, alertId, kind, author.Name, comment, ColumnCodec.Time(ColumnCodec.Milliseconds(at)))
        {
            AuthorRole = author.Role,
            AuthorMethod = author.Method,
        };
    }

    public async Task<IReadOnlyList<FeedbackRecord>> FeedbackAsync(string alertId, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, alert_id, kind, author, comment, at, author_role, author_method FROM feedback WHERE alert_id = @alert ORDER BY at, id;";
        command.Bind("alert", alertId);
        return await DbRow.ReadAllAsync(
            command,
            connections.Dialect,
            row => new FeedbackRecord(row.Int64("id"), row.String("alert_id"), FeedbackKinds.Parse(row.String("kind")), row.String("author"), row.StringOrNull("comment"), row.Time("at"))
            {
                AuthorRole = row.StringOrNull("author_role"),
                AuthorMethod = row.StringOrNull("author_method"),
            },
            cancellationToken).ConfigureAwait(false);
    }
}
