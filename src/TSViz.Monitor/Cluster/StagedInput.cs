using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// The cluster's received samples not yet consumed by their owners, in PostgreSQL (cluster_input). A node stages what
/// it received before it acknowledges the message to the broker, so the input is durable the moment it is
/// acknowledged and acknowledgements do not wait for the owners (which hold samples for the reorder period): the
/// broker's queue for a node stays short, and a dead node leaves behind only what it received in its last few
/// milliseconds. Owners read a machine's rows back when they activate and after a dead node's takeover; rows older
/// than the machine's checkpoint are consumed and deleted every few seconds (<see cref="ExecuteAsync"/>).
/// </summary>
/// <summary>One staged row: one machine's samples of one message, and when a node staged it.</summary>
internal sealed record StagedRow(MachineSamples Samples, DateTimeOffset StagedAt);

internal sealed partial class StagedInput(ClusterDatabase database, IOptions<MonitorOptions> options, ClusterMetrics metrics, TimeProvider time, ILogger<StagedInput> logger) : BackgroundService
{
    /// <summary>How often consumed rows are deleted.</summary>
    public static readonly TimeSpan CleanupPeriod = TimeSpan.FromSeconds(3);

    /// <summary>Rows no owner consumed in this long are deleted (counted and logged: something failed to deliver them).</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromMinutes(30);

    private readonly string clusterId = options.Value.Cluster.ClusterId;
    private readonly string node = options.Value.Cluster.NodeName;

    /// <summary>Writes <paramref name="rows"/> (one machine's samples of one message each) in one COPY; durable on return.</summary>
    public async Task StageAsync(IReadOnlyList<MachineSamples> rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return;
        }

        long received = time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.Source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY cluster_input (cluster_id, machine, topic, last_ticks, last_ms, ticks, vals, channels, node, received_at) FROM STDIN (FORMAT BINARY)",
            cancellationToken).ConfigureAwait(false);
        foreach (var row in rows)
        {
            long last = row.TimestampTicks.Max();
            await copy.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(clusterId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(row.Machine, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(row.Topic, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(last, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(UnixMilliseconds(last), NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(row.TimestampTicks, NpgsqlDbType.Array | NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(row.Values, NpgsqlDbType.Array | NpgsqlDbType.Real, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(row.Channels, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(node, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(received, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        }

        await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
        metrics.Staged.Inc(rows.Count);
    }

    /// <summary>
    /// The staged rows of <paramref name="machine"/> with a sample later than <paramref name="afterTicks"/>, oldest
    /// first, each with the time it was staged (when its samples reached the cluster).
    /// </summary>
    public async Task<IReadOnlyList<StagedRow>> LoadAsync(string machine, long afterTicks, CancellationToken cancellationToken)
    {
        await using var command = database.Source.CreateCommand("""
            SELECT topic, ticks, vals, channels, received_at FROM cluster_input
            WHERE cluster_id = @cluster AND machine = @machine AND last_ticks > @after ORDER BY last_ticks, id
            """);
        command.Parameters.AddWithValue("cluster", clusterId);
        command.Parameters.AddWithValue("machine", machine);
        command.Parameters.AddWithValue("after", afterTicks);
        var rows = new List<StagedRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new StagedRow(
                new MachineSamples(machine, reader.GetString(0), reader.GetFieldValue<long[]>(1), reader.GetFieldValue<float[]>(2), reader.GetInt32(3), false),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
        }

        return rows;
    }

    /// <summary>Deletes consumed rows (all their samples older than their machine's checkpoint) and expired ones.</summary>
    public async Task<(int Consumed, int Expired)> CleanUpAsync(CancellationToken cancellationToken)
    {
        // Strictly older: a checkpoint's time is its last sample's, truncated to the millisecond.
        await using var consumed = database.Source.CreateCommand("""
            DELETE FROM cluster_input i USING machine_checkpoints c
            WHERE i.cluster_id = @cluster AND i.machine = c.machine AND i.last_ms < c.updated_at
            """);
        consumed.Parameters.AddWithValue("cluster", clusterId);
        int deleted = await consumed.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var expired = database.Source.CreateCommand("DELETE FROM cluster_input WHERE cluster_id = @cluster AND received_at < @before");
        expired.Parameters.AddWithValue("cluster", clusterId);
        expired.Parameters.AddWithValue("before", (time.GetUtcNow() - Expiry).ToUnixTimeMilliseconds());
        int old = await expired.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return (deleted, old);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(CleanupPeriod, time, stoppingToken).ConfigureAwait(false);
                try
                {
                    var (_, expired) = await CleanUpAsync(stoppingToken).ConfigureAwait(false);
                    if (expired > 0)
                    {
                        metrics.StagedExpired.Inc(expired);
                        LogExpired(logger, expired, Expiry.TotalMinutes);
                    }
                }
                catch (NpgsqlException ex)
                {
                    LogCleanupFailed(logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private static long UnixMilliseconds(long ticks) => (ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    [LoggerMessage(EventId = 1540, Level = LogLevel.Error, Message = "Deleted {Rows} staged input rows no owner consumed within {Minutes} minutes: their samples were not assembled")]
    private static partial void LogExpired(ILogger logger, int rows, double minutes);

    [LoggerMessage(EventId = 1541, Level = LogLevel.Warning, Message = "Deleting consumed staged input failed, retrying: {Error}")]
    private static partial void LogCleanupFailed(ILogger logger, string error);
}
