using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans;
using Orleans.Runtime;
using TSViz.Monitor.Cluster;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Cluster;

/// <summary>
/// <see cref="PostgresMembershipTable"/> against Orleans' IMembershipTable contract on a real PostgreSQL 15: each field
/// comes back as written, every write checks the table version's etag (and an update the row's etag) and moves the
/// version in the same transaction, a refused write changes nothing, the I-am-alive write touches one column, the
/// clean-up takes old dead rows only, and two cluster ids in the same tables never see each other.
/// </summary>
[Collection(SharedPostgresServer.Name)]
public sealed class PostgresMembershipTableTests(PostgresServer server)
{
    private static int generation = Environment.TickCount & 0xFFFF;

    [Fact]
    public async Task InsertRow_ThenReadRowAndReadAll_ReturnEveryFieldAndTheNewVersion()
    {
        await using var database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await using var table = await InitializedAsync(database, "c1");
        var empty = await table.ReadAllAsync();
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);
        Assert.False(string.IsNullOrEmpty(empty.Version.VersionEtag));

        var entry = Entry(SiloStatus.Active);
        entry.RoleName = "plant-a";
        entry.UpdateZone = 3;
        entry.FaultZone = 7;
        var voter = Silo();
        var voteTime = Microseconds(DateTime.UtcNow.AddSeconds(-3));
        entry.SuspectTimes = [Tuple.Create(voter, voteTime), Tuple.Create(Silo(), Microseconds(DateTime.UtcNow.AddSeconds(-1)))];
        Assert.True(await table.InsertRowAsync(entry, empty.Version.Next()));

        var row = await table.ReadRowAsync(entry.SiloAddress);
        var (read, etag) = Assert.Single(row.Members);
        AssertSame(entry, read);
        Assert.False(string.IsNullOrEmpty(etag));
        Assert.Equal(1, row.Version.Version);
        Assert.NotEqual(empty.Version.VersionEtag, row.Version.VersionEtag);
        Assert.Equal(voter, read.SuspectTimes![0].Item1);
        Assert.Equal(voteTime, read.SuspectTimes[0].Item2);

        var all = await table.ReadAllAsync();
        var (readAll, etagAll) = Assert.Single(all.Members);
        AssertSame(entry, readAll);
        Assert.Equal(etag, etagAll);
        Assert.Equal(row.Version, all.Version);

        // A silo without a row: no member, the same version.
        var none = await table.ReadRowAsync(Silo());
        Assert.Empty(none.Members);
        Assert.Equal(row.Version, none.Version);
    }

    [Fact]
    public async Task InsertRow_SameSiloTwice_SecondFailsEvenWithTheCurrentVersion()
    {
        await using var database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await using var table = await InitializedAsync(database, "c1");
        var entry = Entry(SiloStatus.Joining);
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        var before = await table.ReadAllAsync();

        var again = Entry(SiloStatus.Active);
        again.SiloAddress = entry.SiloAddress;
        Assert.False(await table.InsertRowAsync(again, before.Version.Next()));

        var after = await table.ReadAllAsync();
        Assert.Equal(before.Version, after.Version);
        var (read, _) = Assert.Single(after.Members);
        Assert.Equal(SiloStatus.Joining, read.Status);
    }

    [Fact]
    public async Task InsertRow_StaleTableVersion_FailsAndChangesNothing()
    {
        await using var database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await using var table = await InitializedAsync(database, "c1");
        var stale = (await table.ReadAllAsync()).Version;
        var first = Entry(SiloStatus.Joining);
        Assert.True(await table.InsertRowAsync(first, stale.Next()));
        var before = await table.ReadAllAsync();

        // Another silo read the table before the first insert: its version's etag is gone.
        Assert.False(await table.InsertRowAsync(Entry(SiloStatus.Joining), stale.Next()));
        Assert.False(await table.InsertRowAsync(Entry(SiloStatus.Joining), new TableVersion(before.Version.Version + 1, "not-an-etag")));

        var after = await table.ReadAllAsync();
        Assert.Equal(before.Version, after.Version);
        Assert.Equal(first.SiloAddress, Assert.Single(after.Members).Item1.SiloAddress);
    }

    [Fact]
    public async Task UpdateRow_StaleTableVersion_FailsAndChangesNothing()
    {
        await using var database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await using var table = await InitializedAsync(database, "c1");
        var entry = Entry(SiloStatus.Joining);
        var stale = (await table.ReadAllAsync()).Version.Next();
        Assert.True(await table.InsertRowAsync(entry, stale));
        var before = await table.ReadAllAsync();
        string etag = Assert.Single(before.Members).Item2;

        // The row's etag is right, the table version is the one the insert replaced.
        var update = Copy(entry);
        update.Status = SiloStatus.Active;
        Assert.False(await table.UpdateRowAsync(update, etag, stale.Next()));

        var after = await table.ReadAllAsync();
        Assert.Equal(before.Version, after.Version);
        var (read, etagAfter) = Assert.Single(after.Members);
        Assert.Equal(SiloStatus.Joining, read.Status);
        Assert.Equal(etag, etagAfter);

        // With the current version the same update goes through: the version moves, the row gets a new etag.
        Assert.True(await table.UpdateRowAsync(update, etag, after.Version.Next()));
        var updated = await table.ReadAllAsync();
        Assert.Equal(after.Version.Version + 1, updated.Version.Version);
        Assert.NotEqual(after.Version.VersionEtag, updated.Version.VersionEtag);
        var (readUpdated, newEtag) = Assert.Single(updated.Members);
        AssertSame(update, readUpdated);
        Assert.NotEqual(etag, newEtag);
    }

    [Fact]
    public async Task UpdateRow_StaleRowEtag_FailsAndChangesNothing()
    {
        await using var database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await using var table = await InitializedAsync(database, "c1");
        var entry = Entry(SiloStatus.Joining);
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        var first = await table.ReadAllAsync();
        string oldEtag = Assert.Single(first.Members).Item2;
        var active = Copy(entry);
        active.Status = SiloStatus.Active;
        Assert.True(await table.UpdateRowAsync(active, oldEtag, first.Version.Next()));
        var before = await table.ReadAllAsync();

        // The current table version, but the row's etag from before the update.
        var dead = Copy(entry);
        dead.Status = SiloStatus.Dead;
        Assert.False(await table.UpdateRowAsync(dead, oldEtag, before.Version.Next()));

        // A silo with no row cannot be updated either.
        Assert.False(await table.UpdateRowAsync(Entry(SiloStatus.Dead), Assert.Single(before.Members).Item2, before.Version.Next()));

        var after = await table.ReadAllAsync();
        Assert.Equal(before.Version, after.Version);
        var (read, etag) = Assert.Single(after.Members);
        Assert.Equal(SiloStatus.Active, read.Status);
        Assert.Equal(Assert.Single(before.Members).Item2, etag);
    }

    [Fact]
    public async Task UpdateIAmAlive_ChangesOnlyTheAliveTime_NotTheEtagsOrTheVersion()
    {
        await using var database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await using var table = await InitializedAsync(database, "c1");
        var entry = Entry(SiloStatus.Active);
        entry.SuspectTimes = [Tuple.Create(Silo(), Microseconds(DateTime.UtcNow))];
        var other = Entry(SiloStatus.Active);
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        Assert.True(await table.InsertRowAsync(other, (await table.ReadAllAsync()).Version.Next()));
        var before = await table.ReadAllAsync();

        // As Orleans sends it: only the address and the time are set.
        var alive = Microseconds(DateTime.UtcNow.AddMinutes(5));
        await table.UpdateIAmAliveAsync(new MembershipEntry { SiloAddress = entry.SiloAddress, IAmAliveTime = alive });

        var after = await table.ReadAllAsync();
        Assert.Equal(before.Version, after.Version);
        var expected = Copy(entry);
        expected.IAmAliveTime = alive;
        var (read, etag) = after.TryGet(entry.SiloAddress)!;
        AssertSame(expected, read);
        Assert.Equal(before.TryGet(entry.SiloAddress)!.Item2, etag);
        AssertSame(other, after.TryGet(other.SiloAddress)!.Item1);
        Assert.Equal(before.TryGet(other.SiloAddress)!.Item2, after.TryGet(other.SiloAddress)!.Item2);
    }

    [Fact]
    public async Task ReadAll_ReturnsEveryRowOfTheCluster_WithTheCurrentVersion()
    {
        await using var database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await using var table = await InitializedAsync(database, "c1");
        await using var neighbour = await InitializedAsync(database, "c2");
        Assert.True(await neighbour.InsertRowAsync(Entry(SiloStatus.Active), (await neighbour.ReadAllAsync()).Version.Next()));
        var entries = new[] { Entry(SiloStatus.Active), Entry(SiloStatus.Joining), Entry(SiloStatus.Dead) };
        foreach (var entry in entries)
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        }

        var all = await table.ReadAllAsync();
        Assert.Equal(3, all.Version.Version);
        Assert.Equal(entries.Select(e => e.SiloAddress).Order(), all.Members.Select(m => m.Item1.SiloAddress).Order());
        Assert.Equal(3, all.Members.Select(m => m.Item2).Distinct(StringComparer.Ordinal).Count());
        foreach (var entry in entries)
        {
            AssertSame(entry, all.TryGet(entry.SiloAddress)!.Item1);
        }
    }

    [Fact]
    public async Task CleanupDefunctSiloEntries_RemovesOnlyDeadRowsLastHeardOfBeforeTheDate()
    {
        await using var database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await using var table = await InitializedAsync(database, "c1");
        await using var neighbour = await InitializedAsync(database, "c2");
        var old = Microseconds(DateTime.UtcNow.AddDays(-10));
        var deadOld = Entry(SiloStatus.Dead, old);
        var deadOld2 = Entry(SiloStatus.Dead, old);
        var deadRecent = Entry(SiloStatus.Dead);
        var deadOldButVotedRecently = Entry(SiloStatus.Dead, old);
        deadOldButVotedRecently.SuspectTimes = [Tuple.Create(Silo(), old), Tuple.Create(Silo(), Microseconds(DateTime.UtcNow.AddHours(-1)))];
        var deadOldAliveRecently = Entry(SiloStatus.Dead, old);
        deadOldAliveRecently.IAmAliveTime = Microseconds(DateTime.UtcNow);
        var kept = new List<MembershipEntry> { deadRecent, deadOldButVotedRecently, deadOldAliveRecently };
        kept.AddRange(Enum.GetValues<SiloStatus>().Where(s => s != SiloStatus.Dead).Select(s => Entry(s, old)));
        foreach (var entry in kept.Append(deadOld).Append(deadOld2))
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        }

        var neighbourDead = Entry(SiloStatus.Dead, old);
        Assert.True(await neighbour.InsertRowAsync(neighbourDead, (await neighbour.ReadAllAsync()).Version.Next()));
        var before = await table.ReadAllAsync();

        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddDays(-3));

        var after = await table.ReadAllAsync();
        Assert.Equal(kept.Select(e => e.SiloAddress).Order(), after.Members.Select(m => m.Item1.SiloAddress).Order());
        Assert.Equal(before.Version, after.Version);
        Assert.Single((await neighbour.ReadAllAsync()).Members);

        // A cut-off after every time: the dead rows go, the others stay.
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddDays(1));
        Assert.All((await table.ReadAllAsync()).Members, m => Assert.NotEqual(SiloStatus.Dead, m.Item1.Status));
        Assert.Equal(Enum.GetValues<SiloStatus>().Length - 1, (await table.ReadAllAsync()).Members.Count);
    }

    [Fact]
    public async Task DeleteMembershipTableEntries_RemovesThatClustersRowsOnly()
    {
        await using var database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await using var a = await InitializedAsync(database, "plant-a");
        await using var b = await InitializedAsync(database, "plant-b");
        foreach (var table in new[] { a, b })
        {
            for (int i = 0; i < 2; i++)
            {
                Assert.True(await table.InsertRowAsync(Entry(SiloStatus.Active), (await table.ReadAllAsync()).Version.Next()));
            }
        }

        var bBefore = await b.ReadAllAsync();
        await b.DeleteMembershipTableEntriesAsync("plant-a");

        var aAfter = await a.ReadAllAsync();
        Assert.Empty(aAfter.Members);
        var bAfter = await b.ReadAllAsync();
        Assert.Equal(bBefore.Version, bAfter.Version);
        Assert.Equal(bBefore.Members.Select(m => (m.Item1.SiloAddress, m.Item2)).Order(), bAfter.Members.Select(m => (m.Item1.SiloAddress, m.Item2)).Order());

        // The deleted cluster starts again at version 0 once initialised; until then no write goes through.
        Assert.False(await a.InsertRowAsync(Entry(SiloStatus.Active), aAfter.Version.Next()));
        await a.InitializeMembershipTableAsync(true);
        var fresh = await a.ReadAllAsync();
        Assert.Equal(0, fresh.Version.Version);
        Assert.True(await a.InsertRowAsync(Entry(SiloStatus.Active), fresh.Version.Next()));
    }

    [Fact]
    public async Task InitializeMembershipTable_FromFourTasksAtOnce_CreatesTheTablesAndOneVersionRow()
    {
        string connection = await server.CreateDatabaseAsync();
        var tables = Enumerable.Range(0, 4).Select(_ => new PostgresMembershipTable(NpgsqlDataSource.Create(connection), "c1", NullLogger<PostgresMembershipTable>.Instance, ownsDatabase: true)).ToList();
        try
        {
            using var start = new SemaphoreSlim(0);
            var running = tables.Select(async t =>
            {
                await start.WaitAsync();
                await t.InitializeMembershipTableAsync(true);
            }).ToList();
            start.Release(tables.Count);
            await Task.WhenAll(running);

            // Again, as a restarted node does: no error, the version stays.
            Assert.True(await tables[0].InsertRowAsync(Entry(SiloStatus.Active), (await tables[0].ReadAllAsync()).Version.Next()));
            await Task.WhenAll(tables.Select(t => t.InitializeMembershipTableAsync(true)));
            var all = await tables[3].ReadAllAsync();
            Assert.Equal(1, all.Version.Version);
            Assert.Single(all.Members);
            await using var database = NpgsqlDataSource.Create(connection);
            await using var count = database.CreateCommand("SELECT COUNT(*) FROM cluster_membership_version;");
            Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            foreach (var table in tables)
            {
                await table.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task UpdateRow_FromManyWritersAtOnce_EachWriteMovesTheVersionOnce()
    {
        await using var database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await using var table = await InitializedAsync(database, "c1");
        var entry = Entry(SiloStatus.Active);
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        const int writers = 8;
        int refused = 0;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async w =>
        {
            while (true)
            {
                var data = await table.ReadAllAsync();
                var (current, etag) = data.TryGet(entry.SiloAddress)!;
                var next = Copy(current);
                next.AddSuspector(Silo(), Microseconds(DateTime.UtcNow));
                if (await table.UpdateRowAsync(next, etag, data.Version.Next()))
                {
                    return;
                }

                Interlocked.Increment(ref refused);
            }
        })).WaitAsync(TimeSpan.FromSeconds(60));

        var all = await table.ReadAllAsync();
        Assert.Equal(1 + writers, all.Version.Version);
        Assert.Equal(writers, Assert.Single(all.Members).Item1.SuspectTimes!.Count);
    }

    private static async Task<PostgresMembershipTable> InitializedAsync(NpgsqlDataSource database, string clusterId)
    {
        var table = new PostgresMembershipTable(database, clusterId, NullLogger<PostgresMembershipTable>.Instance);
        await table.InitializeMembershipTableAsync(true);
        return table;
    }

    private static SiloAddress Silo() => SiloAddress.New(IPAddress.Loopback, 11111, Interlocked.Increment(ref generation));

    /// <summary>An entry as a silo writes it; times to the microsecond, PostgreSQL's resolution.</summary>
    private static MembershipEntry Entry(SiloStatus status, DateTime? time = null)
    {
        var silo = Silo();
        var at = time ?? Microseconds(DateTime.UtcNow);
        return new MembershipEntry
        {
            SiloAddress = silo,
            Status = status,
            HostName = "node-" + silo.Generation,
            SiloName = "silo-" + silo.Generation,
            ProxyPort = 30000 + (silo.Generation % 1000),
            StartTime = at,
            IAmAliveTime = at,
        };
    }

    private static MembershipEntry Copy(MembershipEntry entry) => new()
    {
        SiloAddress = entry.SiloAddress,
        Status = entry.Status,
        SuspectTimes = entry.SuspectTimes is null ? null : [.. entry.SuspectTimes],
        ProxyPort = entry.ProxyPort,
        HostName = entry.HostName,
        SiloName = entry.SiloName,
        RoleName = entry.RoleName,
        UpdateZone = entry.UpdateZone,
        FaultZone = entry.FaultZone,
        StartTime = entry.StartTime,
        IAmAliveTime = entry.IAmAliveTime,
    };

    private static DateTime Microseconds(DateTime time) => new(time.Ticks - (time.Ticks % 10), DateTimeKind.Utc);

    private static void AssertSame(MembershipEntry expected, MembershipEntry actual)
    {
        Assert.Equal(expected.SiloAddress, actual.SiloAddress);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.ProxyPort, actual.ProxyPort);
        Assert.Equal(expected.HostName, actual.HostName);
        Assert.Equal(expected.SiloName, actual.SiloName);
        Assert.Equal(expected.RoleName, actual.RoleName);
        Assert.Equal(expected.UpdateZone, actual.UpdateZone);
        Assert.Equal(expected.FaultZone, actual.FaultZone);
        Assert.Equal(expected.StartTime, actual.StartTime);
        Assert.Equal(DateTimeKind.Utc, actual.StartTime.Kind);
        Assert.Equal(expected.IAmAliveTime, actual.IAmAliveTime);
        Assert.Equal(expected.SuspectTimes?.Select(v => (v.Item1, v.Item2)), actual.SuspectTimes?.Select(v => (v.Item1, v.Item2)));
        Assert.Equal(expected.ToFullString(), actual.ToFullString());
    }
}
