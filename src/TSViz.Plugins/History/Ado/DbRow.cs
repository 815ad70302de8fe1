using System.Data.Common;

namespace TSViz.Plugins.History.Ado;

/// <summary>
/// The current row of a result set, read by column name: each name's ordinal is looked up once per result set, so a
/// reordered or widened SELECT cannot shift a value into the wrong field. Times are Unix milliseconds; flags, integers
/// and blobs are read as the dialect keeps them.
/// </summary>
internal sealed class DbRow(DbDataReader reader, HistoryDialect dialect)
{
    private readonly Dictionary<string, int> ordinals = new(StringComparer.Ordinal);

    /// <summary>Every row <paramref name="command"/> returns, through <paramref name="map"/>.</summary>
    public static async Task<List<T>> ReadAllAsync<T>(DbCommand command, HistoryDialect dialect, Func<DbRow, T> map, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var row = new DbRow(reader, dialect);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(map(row));
        }

        return items;
    }

    public bool IsNull(string column) => reader.IsDBNull(Ordinal(column));

    public string String(string column) => reader.GetString(Ordinal(column));

    public string? StringOrNull(string column) => IsNull(column) ? null : String(column);

    /// <summary>An integer column of any width (bigint, integer, a count).</summary>
    public long Int64(string column) => dialect.ReadInt64(reader, Ordinal(column));

    public int Int32(string column) => checked((int)Int64(column));

    public int? Int32OrNull(string column) => IsNull(column) ? null : Int32(column);

    public bool Flag(string column) => dialect.ReadFlag(reader, Ordinal(column));

    public bool? FlagOrNull(string column) => IsNull(column) ? null : Flag(column);

    /// <summary>A float kept as a double (every float is exactly a double, so it comes back bit for bit).</summary>
    public float? FloatOrNull(string column) => IsNull(column) ? null : (float)Double(column);

    public double Double(string column) => reader.GetDouble(Ordinal(column));

    public double? DoubleOrNull(string column) => IsNull(column) ? null : Double(column);

    public byte[] Blob(string column) => dialect.ReadBlob(reader, Ordinal(column));

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
