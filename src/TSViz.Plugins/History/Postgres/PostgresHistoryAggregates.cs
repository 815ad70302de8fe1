using TSViz.Plugins.History.Sqlite;

namespace TSViz.Plugins.History.Postgres;

/// <summary>The dashboards' counts and means, computed by PostgreSQL (jsonb_each and jsonb_array_elements over the JSON columns).</summary>
internal sealed class PostgresHistoryAggregates(PostgresConnectionFactory connections) : IHistoryAggregates
{
    private const long HourMilliseconds = 3_600_000;

    public async Task<IReadOnlyList<HourlyCount>> AlertsPerHourAsync(DateTimeOffset since, DateTimeOffset until, string? machine, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT machine, (since / @hour) * @hour AS hour, COUNT(*) AS alerts FROM alerts
            WHERE since >= @from AND since < @to {(machine is null ? string.Empty : "AND machine = @machine")}
            GROUP BY machine, hour ORDER BY hour, machine;
            """;
        command.Parameters.AddWithValue("hour", HourMilliseconds);
        command.Parameters.AddWithValue("from", ColumnCodec.Milliseconds(since));
        command.Parameters.AddWithValue("to", ColumnCodec.Milliseconds(until));
        if (machine is not null)
        {
            command.Parameters.AddWithValue("machine", machine);
        }

        return await PostgresRow.ReadAllAsync(command, row => new HourlyCount(row.String("machine"), row.Time("hour"), row.Int32("alerts")), cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ChannelContributionPoint>> ChannelContributionOverTimeAsync(string machine, DateTimeOffset since, DateTimeOffset until, TimeSpan bucket, CancellationToken cancellationToken)
    {
        long bucketMs = Math.Max(1000, (long)bucket.TotalMilliseconds);
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (w.window_end / @bucket) * @bucket AS bucket, c.key COLLATE "C" AS channel, AVG((c.value)::float8) AS mean_share, COUNT(*) AS windows
            FROM windows w CROSS JOIN LATERAL jsonb_each(w.contributions) c
            WHERE w.machine = @machine AND w.window_end >= @from AND w.window_end < @to AND w.score IS NOT NULL
            GROUP BY 1, 2 ORDER BY 1, 2;
            """;
        command.Parameters.AddWithValue("bucket", bucketMs);
        command.Parameters.AddWithValue("machine", machine);
        command.Parameters.AddWithValue("from", ColumnCodec.Milliseconds(since));
        command.Parameters.AddWithValue("to", ColumnCodec.Milliseconds(until));
        return await PostgresRow.ReadAllAsync(
            command,
            row => new ChannelContributionPoint(row.Time("bucket"), row.String("channel"), row.Double("mean_share"), row.Int32("windows")),
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<FilterFrequency>> TopFilterFrequencyAsync(DateTimeOffset since, DateTimeOffset until, string? machine, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT (f.value ->> 'layer') COLLATE "C" AS layer, (f.value ->> 'index')::integer AS filter_index, COUNT(*) AS windows
            FROM windows w CROSS JOIN LATERAL jsonb_array_elements(w.top_filters) f
            WHERE w.window_end >= @from AND w.window_end < @to {(machine is null ? string.Empty : "AND w.machine = @machine")}
            GROUP BY 1, 2 ORDER BY windows DESC, 1, 2 LIMIT @limit;
            """;
        command.Parameters.AddWithValue("from", ColumnCodec.Milliseconds(since));
        command.Parameters.AddWithValue("to", ColumnCodec.Milliseconds(until));
        command.Parameters.AddWithValue("limit", Math.Clamp(limit, 1, 1000));
        if (machine is not null)
        {
            command.Parameters.AddWithValue("machine", machine);
        }

        return await PostgresRow.ReadAllAsync(command, row => new FilterFrequency(row.String("layer"), row.Int32("filter_index"), row.Int32("windows")), cancellationToken).ConfigureAwait(false);
    }
}
