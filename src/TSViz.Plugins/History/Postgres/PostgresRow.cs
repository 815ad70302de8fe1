using System.Globalization;
using Npgsql;
using TSViz.Plugins.History.Sqlite;

namespace TSViz.Plugins.History.Postgres;

/// <summary>
/// The current row of a result set, read by column name (each name's ordinal looked up once per result set), with the
/// values as the history keeps them: times as Unix milliseconds, scores as double precision, flags as booleans.
/// </summary>
internal sealed class PostgresRow(NpgsqlDataReader reader)
{
    private readonly Dictionary<string, int> ordinals = new(StringComparer.Ordinal);

    /// <summary>Every row <paramref name="command"/> returns, through <paramref name="map"/>.</summary>
    public static async Task<List<T>> ReadAllAsync<T>(NpgsqlCommand command, Func<PostgresRow, T> map, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var row = new PostgresRow(reader);
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
    public long Int64(string column) => Convert.ToInt64(reader.GetValue(Ordinal(column)), CultureInfo.InvariantCulture);

    public int Int32(string column) => checked((int)Int64(column));

    public int? Int32OrNull(string column) => IsNull(column) ? null : Int32(column);

    public bool Flag(string column) => reader.GetBoolean(Ordinal(column));

    public bool? FlagOrNull(string column) => IsNull(column) ? null : Flag(column);

    /// <summary>A float kept as double precision (every float is exactly a double, so it comes back bit for bit).</summary>
    public float? FloatOrNull(string column) => IsNull(column) ? null : (float)Double(column);

    public double Double(string column) => reader.GetDouble(Ordinal(column));

    public double? DoubleOrNull(string column) => IsNull(column) ? null : Double(column);

    public byte[] Blob(string column) => reader.GetFieldValue<byte[]>(Ordinal(column));

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
