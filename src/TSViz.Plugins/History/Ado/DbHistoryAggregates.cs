namespace TSViz.Plugins.History.Ado;

/// <summary>The dashboards' counts and means, computed by the database over the JSON columns.</summary>
internal sealed class DbHistoryAggregates(IHistoryConnections connections) : IHistoryAggregates
{
    private const long HourMilliseconds = 3_600_000;

    private readonly HistoryDialect dialect = connections.Dialect;

    public async Task<IReadOnlyList<HourlyCount>> AlertsPerHourAsync(DateTimeOffset since, DateTimeOffset until, string? machine, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT machine, (since / @hour) * @hour AS hour, COUNT(*) AS alerts FROM alerts
            WHERE since >= @from AND since < @to {(machine is null ? string.Empty : "AND machine = @machine")}
            GROUP BY machine, hour ORDER BY hour, machine;
            """;
        command.Bind("hour", HourMilliseconds);
        command.Bind("from", ColumnCodec.Milliseconds(since));
        command.Bind("to", ColumnCodec.Milliseconds(until));
        if (machine is not null)
        {
            command.Bind("machine", machine);
        }

        return await DbRow.ReadAllAsync(command, dialect, row => new HourlyCount(row.String("machine"), row.Time("hour"), row.Int32("alerts")), cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ChannelContributionPoint>> ChannelContributionOverTimeAsync(string machine, DateTimeOffset since, DateTimeOffset until, TimeSpan bucket, CancellationToken cancellationToken)
    {
        long bucketMs = Math.Max(1000, (long)bucket.TotalMilliseconds);
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT (w.window_end / @bucket) * @bucket AS bucket, {dialect.ByteOrder("c.key")} AS channel, AVG({dialect.JsonNumber("c.value")}) AS mean_share, COUNT(*) AS windows
            FROM windows w CROSS JOIN {dialect.JsonObjectEntries("w.contributions")} c
            WHERE w.machine = @machine AND w.window_end >= @from AND w.window_end < @to AND w.score IS NOT NULL
            GROUP BY 1, 2 ORDER BY 1, 2;
            """;
        command.Bind("bucket", bucketMs);
        command.Bind("machine", machine);
        command.Bind("from", ColumnCodec.Milliseconds(since));
        command.Bind("to", ColumnCodec.Milliseconds(until));
        return await DbRow.ReadAllAsync(
            command,
            dialect,
            row => new ChannelContributionPoint(row.Time("bucket"), row.String("channel"), row.Double("mean_share"), row.Int32("windows")),
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<FilterFrequency>> TopFilterFrequencyAsync(DateTimeOffset since, DateTimeOffset until, string? machine, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {dialect.ByteOrder(dialect.JsonText("f.value", "layer"))} AS layer, {dialect.JsonInteger("f.value", "index")} AS filter_index, COUNT(*) AS windows
            FROM windows w CROSS JOIN {dialect.JsonArrayElements("w.top_filters")} f
            WHERE w.window_end >= @from AND w.window_end < @to {(machine is null ? string.Empty : "AND w.machine = @machine")}
            GROUP BY 1, 2 ORDER BY windows DESC, 1, 2 LIMIT @limit;
            """;
        command.Bind("from", ColumnCodec.Milliseconds(since));
        command.Bind("to", ColumnCodec.Milliseconds(until));
        command.Bind("limit", Math.Clamp(limit, 1, 1000));
        if (machine is not null)
        {
            command.Bind("machine", machine);
        }

        return await DbRow.ReadAllAsync(command, dialect, row => new FilterFrequency(row.String("layer"), row.Int32("filter_index"), row.Int32("windows")), cancellationToken).ConfigureAwait(false);
    }
}
