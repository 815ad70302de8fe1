using Microsoft.Data.Sqlite;

namespace TSViz.Plugins.History.Sqlite;

/// <summary>
/// The current row of a result set, read by column name: each name's ordinal is looked up once per result set, so a
/// reordered or widened SELECT cannot shift a value into the wrong field.
/// </summary>
internal sealed class SqliteRow(SqliteDataReader reader)
{
    private readonly Dictionary<string, int> ordinals = new(StringComparer.Ordinal);

    /// <summary>Every row <paramref name="command"/> returns, through <paramref name="map"/>.</summary>
    public static async Task<List<T>> ReadAllAsync<T>(SqliteCommand command, Func<SqliteRow, T> map, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var row = new SqliteRow(reader);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(map(row));
        }

        return items;
    }

    public bool IsNull(string column) => reader.IsDBNull(Ordinal(column));

    public string String(string column) => reader.GetString(Ordinal(column));

    public string? StringOrNull(string column) => IsNull(column) ? null : String(column);

    public long Int64(string column) => reader.GetInt64(Ordinal(column));

    public int Int32(string column) => reader.GetInt32(Ordinal(column));

    public int? Int32OrNull(string column) => IsNull(column) ? null : Int32(column);

    public bool Flag(string column) => Int32(column) == 1;

    public bool? FlagOrNull(string column) => IsNull(column) ? null : Flag(column);

    public float? FloatOrNull(string column) => IsNull(column) ? null : reader.GetFloat(Ordinal(column));

    public double Double(string column) => reader.GetDouble(Ordinal(column));

    public double? DoubleOrNull(string column) => IsNull(column) ? null : Double(column);

    public byte[] Blob(string column) => (byte[])reader.GetValue(Ordinal(column));

    /// <summary>A time stored as Unix milliseconds.</summary>
    public DateTimeOffset Time(string column) => ColumnCodec.Time(Int64(column));

    public DateTimeOffset? TimeOrNull(string column) => IsNull(column) ? null : Time(column);

    private int Ordinal(string column)
    {
        if (!ordinals.TryGetValue(column, out int ordinal))
        {
            ordinal = reader.GetOrdinal(column);
            ordinals[column] = ordinal;
        }

        return ordinal;
    }
}
