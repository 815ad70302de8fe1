using System.Data.Common;

namespace TSViz.Plugins.History.Ado;

/// <summary>
/// A query's WHERE clause (each optional filter adds its condition and its parameter, so no value is ever part of the
/// SQL text) and its keyset paging, newest first (<see cref="PageCursor"/>: the same cursors whatever the database).
/// </summary>
internal sealed class Conditions(DbCommand command)
{
    private readonly List<string> clauses = [];

    public string Sql => clauses.Count > 0 ? "WHERE " + string.Join(" AND ", clauses) : string.Empty;

    /// <summary>Adds the clause and its parameter (named <paramref name="name"/>, written @name in the clause) when <paramref name="value"/> is given.</summary>
    public void Add(string clause, string name, object? value)
    {
        if (value is not null)
        {
            clauses.Add(clause);
            command.Bind(name, value);
        }
    }

    /// <summary>Adds a clause that holds no value (a constant of the schema, such as a partial index's condition).</summary>
    public void AddConstant(string clause) => clauses.Add(clause);

    /// <summary>Rows strictly after the cursor's (time, id) in newest-first order; a malformed cursor is an <see cref="ArgumentException"/>.</summary>
    public void After(string timeColumn, string idColumn, string? cursor)
    {
        if (cursor is null)
        {
            return;
        }

        var after = PageCursor.Decode(cursor);
        clauses.Add($"({timeColumn} < @cursor_time OR ({timeColumn} = @cursor_time AND {idColumn} < @cursor_id))");
        command.Bind("cursor_time", after.Time);
        command.Bind("cursor_id", after.Id);
    }

    /// <summary>A page from up to limit + 1 rows: the extra row only says there is more; the cursor is the last row's key.</summary>
    public static Page<T> ToPage<T>(List<T> rows, int limit, Func<T, (DateTimeOffset Time, string Id)> key)
    {
        if (rows.Count <= limit)
        {
            return new Page<T>(rows, null);
        }

        rows.RemoveAt(limit);
        var (time, id) = key(rows[^1]);
        return new Page<T>(rows, PageCursor.After(time, id).Encode());
    }
}
