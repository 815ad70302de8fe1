using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Orleans;
using Orleans.Runtime;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// Orleans' membership table in the cluster's PostgreSQL, our own schema (Cluster/Sql/cluster_membership_postgres.sql):
/// one version row per cluster id (<c>cluster_membership_version</c>) and one row per silo (<c>cluster_members</c>).
/// Orleans' membership protocol relies on optimistic concurrency over the whole table: an insert or update of a silo's
/// row names the table version's etag it read, and succeeds only if that etag is still the table's, moving the version
/// on in the same transaction; an update also names the row's etag. Both are checked by the UPDATE's WHERE clause of the
/// version row, which serialises writers of one cluster (a second writer waits for the first, then finds the etag
/// changed and matches nothing). A refused write returns false and changes nothing. The I-am-alive time is written in
/// place, without etags, as the contract allows. Rows of other cluster ids in the same tables are never touched.
/// </summary>
internal sealed partial class PostgresMembershipTable : IMembershipTable, IAsyncDisposable
{
    /// <summary>The advisory lock key nodes take while creating the tables ("tsvizclu"; any constant the others are not).</summary>
    private const long SchemaLock = 0x7473_7669_7a63_6c75;

    private const string Columns =
        "m.address, m.port, m.generation, m.silo_name, m.host_name, m.status, m.proxy_port, m.role_name, m.update_zone, m.fault_zone, m.start_time, m.i_am_alive_time, m.suspect_times, m.etag";

    private readonly NpgsqlDataSource database;
    private readonly string clusterId;
    private readonly ILogger logger;
    private readonly bool ownsDatabase;

    /// <summary>A table of <paramref name="clusterId"/>'s members on <paramref name="database"/>.</summary>
    /// <param name="database">The cluster's PostgreSQL.</param>
    /// <param name="clusterId">Orleans' ClusterId: the rows this table reads and writes.</param>
    /// <param name="logger">Where the table says what it created and which writes it refused.</param>
    /// <param name="ownsDatabase">Whether disposing the table disposes <paramref name="database"/>.</param>
    public PostgresMembershipTable(NpgsqlDataSource database, string clusterId, ILogger<PostgresMembershipTable> logger, bool ownsDatabase = false)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrEmpty(clusterId);
        ArgumentNullException.ThrowIfNull(logger);
        this.database = database;
        this.clusterId = clusterId;
        this.logger = logger;
        this.ownsDatabase = ownsDatabase;
    }

    /// <summary>The tables' DDL, embedded in the assembly.</summary>
    internal static string Schema { get; } = Script("cluster_membership_postgres.sql");

    /// <summary>The cluster id whose rows this table reads and writes.</summary>
    public string ClusterId => clusterId;

    [Obsolete("Use InitializeMembershipTableAsync instead.")]
    public Task InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion, CancellationToken.None);

    /// <summary>
    /// Creates the tables if they are not there (under an advisory lock, so nodes starting together do not race) and,
    /// with <paramref name="tryInitTableVersion"/>, the cluster's version row (version 0) if it is not there yet.
    /// </summary>
    public async Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@lock);", connection, transaction))
        {
            take.Parameters.AddWithValue("lock", SchemaLock);
            await take.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var create = new NpgsqlCommand(Schema, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        int created = 0;
        if (tryInitTableVersion)
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO cluster_membership_version (cluster_id, version, etag) VALUES (@cluster, 0, @etag) ON CONFLICT (cluster_id) DO NOTHING;",
                connection, transaction);
            insert.Parameters.AddWithValue("cluster", clusterId);
            insert.Parameters.AddWithValue("etag", NewEtag());
            created = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (created > 0)
        {
            MembershipLog.VersionRowCreated(logger, clusterId);
        }
    }

    [Obsolete("Use DeleteMembershipTableEntriesAsync instead.")]
    public Task DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId, CancellationToken.None);

    /// <summary>
    /// Deletes every row of <paramref name="clusterId"/>, its members and its version row (the next
    /// <see cref="InitializeMembershipTableAsync"/> starts it again at version 0); other clusters' rows stay.
    /// </summary>
    public async Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clusterId);
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var delete = new NpgsqlCommand(
            "DELETE FROM cluster_members WHERE cluster_id = @cluster; DELETE FROM cluster_membership_version WHERE cluster_id = @cluster;", connection, transaction))
        {
            delete.Parameters.AddWithValue("cluster", clusterId);
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    [Obsolete("Use CleanupDefunctSiloEntriesAsync instead.")]
    public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate, CancellationToken.None);

    /// <summary>
    /// Deletes this cluster's rows of dead silos last heard of before <paramref name="beforeDate"/>: status Dead and the
    /// latest of start time, I-am-alive time and suspicion votes earlier than it (Orleans' "effective update time", so a
    /// silo declared dead recently stays listed). Rows of silos in any other status stay. The version does not move:
    /// removing dead rows changes no live silo's view.
    /// </summary>
    public async Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken = default)
    {
        await using var delete = database.CreateCommand("""
            DELETE FROM cluster_members m
            WHERE m.cluster_id = @cluster AND m.status = @dead
              AND GREATEST(m.start_time, m.i_am_alive_time,
                  (SELECT max((v ->> 'at')::timestamptz) FROM jsonb_array_elements(m.suspect_times) v)) < @before;
            """);
        delete.Parameters.AddWithValue("cluster", clusterId);
        delete.Parameters.AddWithValue("dead", nameof(SiloStatus.Dead));
        delete.Parameters.AddWithValue("before", beforeDate.ToUniversalTime());
        int deleted = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        if (deleted > 0)
        {
            MembershipLog.DefunctRowsDeleted(logger, deleted, clusterId, beforeDate);
        }
    }

    [Obsolete("Use ReadRowAsync instead.")]
    public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadRowAsync(key, CancellationToken.None);

    /// <summary>
    /// The row of <paramref name="key"/> (none if it has no row) with its etag, and the table version, read in one
    /// statement (one snapshot).
    /// </summary>
    public Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var read = database.CreateCommand($"""
            SELECT v.version, v.etag, {Columns}
            FROM cluster_membership_version v
            LEFT JOIN cluster_members m ON m.cluster_id = v.cluster_id AND m.address = @address AND m.port = @port AND m.generation = @generation
            WHERE v.cluster_id = @cluster;
            """);
        read.Parameters.AddWithValue("cluster", clusterId);
        AddKey(read, key);
        return ReadAsync(read, cancellationToken);
    }

    [Obsolete("Use ReadAllAsync instead.")]
    public Task<MembershipTableData> ReadAll() => ReadAllAsync(CancellationToken.None);

    /// <summary>Every row of this cluster with its etag, and the table version, read in one statement (one snapshot).</summary>
    public Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        var read = database.CreateCommand($"""
            SELECT v.version, v.etag, {Columns}
            FROM cluster_membership_version v
            LEFT JOIN cluster_members m ON m.cluster_id = v.cluster_id
            WHERE v.cluster_id = @cluster;
            """);
        read.Parameters.AddWithValue("cluster", clusterId);
        return ReadAsync(read, cancellationToken);
    }

    [Obsolete("Use InsertRowAsync instead.")]
    public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion, CancellationToken.None);

    /// <summary>
    /// Adds <paramref name="entry"/>'s row and sets the table version to <paramref name="tableVersion"/>'s number with a
    /// new etag, in one transaction; false, with nothing changed, when the silo has a row already or the table's version
    /// etag is no longer <paramref name="tableVersion"/>'s.
    /// </summary>
    public async Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!await MoveVersionAsync(connection, transaction, tableVersion, cancellationToken).ConfigureAwait(false))
        {
            MembershipLog.WriteRefused(logger, "insert", entry.SiloAddress, "the table version's etag changed", clusterId);
            return false;
        }

        await using (var insert = new NpgsqlCommand("""
            INSERT INTO cluster_members (cluster_id, address, port, generation, silo_name, host_name, status, proxy_port, role_name,
                update_zone, fault_zone, start_time, i_am_alive_time, suspect_times, etag)
            VALUES (@cluster, @address, @port, @generation, @silo_name, @host_name, @status, @proxy_port, @role_name,
                @update_zone, @fault_zone, @start_time, @i_am_alive_time, @suspect_times, @etag)
            ON CONFLICT (cluster_id, address, port, generation) DO NOTHING;
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("cluster", clusterId);
            AddKey(insert, entry.SiloAddress);
            AddValues(insert, entry);
            if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                MembershipLog.WriteRefused(logger, "insert", entry.SiloAddress, "the silo has a row already", clusterId);
                return false;
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    [Obsolete("Use UpdateRowAsync instead.")]
    public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion, CancellationToken.None);

    /// <summary>
    /// Replaces <paramref name="entry"/>'s row (every column, with a new etag) and sets the table version to
    /// <paramref name="tableVersion"/>'s number with a new etag, in one transaction; false, with nothing changed, when the
    /// silo has no row, its row's etag is not <paramref name="etag"/>, or the table's version etag is no longer
    /// <paramref name="tableVersion"/>'s.
    /// </summary>
    public async Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(etag);
        ArgumentNullException.ThrowIfNull(tableVersion);
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!await MoveVersionAsync(connection, transaction, tableVersion, cancellationToken).ConfigureAwait(false))
        {
            MembershipLog.WriteRefused(logger, "update", entry.SiloAddress, "the table version's etag changed", clusterId);
            return false;
        }

        await using (var update = new NpgsqlCommand("""
            UPDATE cluster_members SET silo_name = @silo_name, host_name = @host_name, status = @status, proxy_port = @proxy_port,
                role_name = @role_name, update_zone = @update_zone, fault_zone = @fault_zone, start_time = @start_time,
                i_am_alive_time = @i_am_alive_time, suspect_times = @suspect_times, etag = @etag
            WHERE cluster_id = @cluster AND address = @address AND port = @port AND generation = @generation AND etag = @expected;
            """, connection, transaction))
        {
            update.Parameters.AddWithValue("cluster", clusterId);
            AddKey(update, entry.SiloAddress);
            AddValues(update, entry);
            update.Parameters.AddWithValue("expected", etag);
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                MembershipLog.WriteRefused(logger, "update", entry.SiloAddress, "the silo has no row or its etag changed", clusterId);
                return false;
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    [Obsolete("Use UpdateIAmAliveAsync instead.")]
    public Task UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry, CancellationToken.None);

    /// <summary>
    /// Writes <paramref name="entry"/>'s I-am-alive time into its row in place: no etag is checked or changed and the
    /// table version stays (the contract's "dirty write"). A silo without a row changes nothing.
    /// </summary>
    public async Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var update = database.CreateCommand(
            "UPDATE cluster_members SET i_am_alive_time = @i_am_alive_time WHERE cluster_id = @cluster AND address = @address AND port = @port AND generation = @generation;");
        update.Parameters.AddWithValue("cluster", clusterId);
        AddKey(update, entry.SiloAddress);
        update.Parameters.AddWithValue("i_am_alive_time", Utc(entry.IAmAliveTime));
        await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disposes the data source when the table was given it to own (the registration's).</summary>
    public async ValueTask DisposeAsync()
    {
        if (ownsDatabase)
        {
            await database.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sets the version row to <paramref name="next"/>'s number with a new etag if its etag is still
    /// <paramref name="next"/>'s; otherwise rolls the transaction back. The row lock this takes serialises the cluster's writers.
    /// </summary>
    private async Task<bool> MoveVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, TableVersion next, CancellationToken cancellationToken)
    {
        await using var move = new NpgsqlCommand(
            "UPDATE cluster_membership_version SET version = @version, etag = @etag, changed_at = now() WHERE cluster_id = @cluster AND etag = @expected;",
            connection, transaction);
        move.Parameters.AddWithValue("cluster", clusterId);
        move.Parameters.AddWithValue("version", next.Version);
        move.Parameters.AddWithValue("etag", NewEtag());
        move.Parameters.AddWithValue("expected", (object?)next.VersionEtag ?? DBNull.Value);
        if (await move.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
        {
            return true;
        }

        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>
    /// Runs a read of the version joined to member rows (no row at all: the cluster has no version row yet, read as
    /// version 0 with an etag no write can match, so every write fails until <see cref="InitializeMembershipTableAsync"/>).
    /// </summary>
    private static async Task<MembershipTableData> ReadAsync(NpgsqlCommand read, CancellationToken cancellationToken)
    {
        await using (read.ConfigureAwait(false))
        {
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            TableVersion? version = null;
            var members = new List<Tuple<MembershipEntry, string>>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                version ??= new TableVersion(reader.GetInt32(0), reader.GetString(1));
                if (!reader.IsDBNull(2))
                {
                    members.Add(ReadMember(reader));
                }
            }

            return new MembershipTableData(members, version ?? new TableVersion(0, string.Empty));
        }
    }

    private static Tuple<MembershipEntry, string> ReadMember(DbDataReader reader)
    {
        var address = SiloAddress.New(IPAddress.Parse(reader.GetString(2)), reader.GetInt32(3), reader.GetInt32(4));
        var entry = new MembershipEntry
        {
            SiloAddress = address,
            SiloName = reader.GetString(5),
            HostName = reader.GetString(6),
            Status = Enum.Parse<SiloStatus>(reader.GetString(7)),
            ProxyPort = reader.GetInt32(8),
            RoleName = reader.IsDBNull(9) ? null : reader.GetString(9),
            UpdateZone = reader.GetInt32(10),
            FaultZone = reader.GetInt32(11),
            StartTime = reader.GetFieldValue<DateTime>(12),
            IAmAliveTime = reader.GetFieldValue<DateTime>(13),
            SuspectTimes = reader.IsDBNull(14) ? null : SuspectTimesJson.Read(reader.GetString(14)),
        };
        return Tuple.Create(entry, reader.GetString(15));
    }

    private static void AddKey(NpgsqlCommand command, SiloAddress silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        command.Parameters.AddWithValue("address", silo.Endpoint.Address.ToString());
        command.Parameters.AddWithValue("port", silo.Endpoint.Port);
        command.Parameters.AddWithValue("generation", silo.Generation);
    }

    /// <summary>Every column of the row but the key; the row's etag is new.</summary>
    private static void AddValues(NpgsqlCommand command, MembershipEntry entry)
    {
        command.Parameters.AddWithValue("silo_name", entry.SiloName ?? string.Empty);
        command.Parameters.AddWithValue("host_name", entry.HostName ?? string.Empty);
        command.Parameters.AddWithValue("status", entry.Status.ToString());
        command.Parameters.AddWithValue("proxy_port", entry.ProxyPort);
        command.Parameters.AddWithValue("role_name", (object?)entry.RoleName ?? DBNull.Value);
        command.Parameters.AddWithValue("update_zone", entry.UpdateZone);
        command.Parameters.AddWithValue("fault_zone", entry.FaultZone);
        command.Parameters.AddWithValue("start_time", Utc(entry.StartTime));
        command.Parameters.AddWithValue("i_am_alive_time", Utc(entry.IAmAliveTime));
        command.Parameters.Add(new NpgsqlParameter("suspect_times", NpgsqlDbType.Jsonb)
        {
            Value = entry.SuspectTimes is null ? DBNull.Value : SuspectTimesJson.Write(entry.SuspectTimes),
        });
        command.Parameters.AddWithValue("etag", NewEtag());
    }

    /// <summary>Orleans' times are UTC; one without a kind (a deserialised one) is taken as UTC, as timestamptz needs.</summary>
    private static DateTime Utc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Utc => time,
        DateTimeKind.Local => time.ToUniversalTime(),
        _ => DateTime.SpecifyKind(time, DateTimeKind.Utc),
    };

    private static string NewEtag() => Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture);

    private static string Script(string file)
    {
        string name = $"cluster/{file}";
        using var stream = typeof(PostgresMembershipTable).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The resource {name} is not in the monitor's assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
