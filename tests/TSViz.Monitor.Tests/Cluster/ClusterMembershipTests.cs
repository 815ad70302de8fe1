using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans;
using Orleans.Runtime;
using TSViz.Monitor.Cluster;
using TSViz.Tests.Shared;
using Xunit.Abstractions;

namespace TSViz.Monitor.Tests.Cluster;

/// <summary>
/// Real Orleans silos with their membership in <see cref="PostgresMembershipTable"/> on a real PostgreSQL 15: three
/// silos on one cluster id form one cluster (two in this process, one as its own process), and when the third is
/// killed with SIGKILL (so it never marks itself dead), the other two declare it Dead in the table within seconds.
/// </summary>
[Collection(SharedPostgresServer.Name)]
public sealed class ClusterMembershipTests(PostgresServer server, ITestOutputHelper output)
{
    /// <summary>How long the survivors may take to write the killed silo Dead (the tuned settings take 1-6 s).</summary>
    private static readonly TimeSpan DeathDeadline = TimeSpan.FromSeconds(25);

    [Fact]
    public async Task ThreeSilos_FormOneCluster_AndTheOthersWriteAKilledOneDead()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        string connection = await server.CreateDatabaseAsync();
        string clusterId = "tsviz-" + Guid.NewGuid().ToString("N")[..8];
        await using var database = NpgsqlDataSource.Create(connection);
        await using var table = new PostgresMembershipTable(database, clusterId, NullLogger<PostgresMembershipTable>.Instance);

        await using var victim = TestSiloProcess.Start(connection, clusterId, "s3");
        var silos = new[] { TestSilo.Build(connection, clusterId, "s1"), TestSilo.Build(connection, clusterId, "s2") };
        try
        {
            await Task.WhenAll(silos.Select(s => s.StartAsync(cancel.Token)).Append(victim.StartedAsync(cancel.Token)));

            // One cluster: every silo in this process sees the three as active, and so does the table.
            foreach (var silo in silos)
            {
                await WaitAsync(async () => (await ActiveHostsAsync(silo)).Count == 3, "3 active silos seen from every silo", victim, cancel.Token);
            }

            var members = (await table.ReadAllAsync(cancel.Token)).Members.Select(m => m.Item1).ToList();
            Assert.Equal(["s1", "s2", "s3"], members.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloName).Order());
            var killed = members.Single(m => m.SiloName == "s3").SiloAddress;

            await victim.KillAsync();
            var clock = Stopwatch.StartNew();
            MembershipEntry? row = null;
            while (clock.Elapsed < DeathDeadline)
            {
                row = (await table.ReadRowAsync(killed, cancel.Token)).Members.SingleOrDefault()?.Item1;
                if (row?.Status == SiloStatus.Dead)
                {
                    break;
                }

                await Task.Delay(100, cancel.Token);
            }

            Assert.True(row?.Status == SiloStatus.Dead, $"s3 is {row?.Status} in the table {DeathDeadline.TotalSeconds} s after SIGKILL:\n{victim.Log}");
            output.WriteLine($"s3 written Dead {clock.Elapsed.TotalSeconds:0.0} s after SIGKILL");
            Assert.NotNull(row!.SuspectTimes);
            Assert.NotEmpty(row.SuspectTimes);

            // The survivors stay active, and see each other only.
            var after = (await table.ReadAllAsync(cancel.Token)).Members.Select(m => m.Item1).ToList();
            Assert.Equal(["s1", "s2"], after.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloName).Order());
            foreach (var silo in silos)
            {
                await WaitAsync(async () => (await ActiveHostsAsync(silo)).Count == 2, "2 active silos seen from each survivor", victim, cancel.Token);
                Assert.DoesNotContain(killed, await ActiveHostsAsync(silo));
            }
        }
        finally
        {
            // A silo whose table fails may not stop in time: the test moves on (and has failed already).
            foreach (var silo in silos)
            {
                try
                {
                    await silo.StopAsync(TimeSpan.FromSeconds(10)).WaitAsync(TimeSpan.FromSeconds(20));
                }
                catch (TimeoutException)
                {
                    // Disposed below.
                }
                finally
                {
                    silo.Dispose();
                }
            }
        }
    }

    private static async Task<IReadOnlyCollection<SiloAddress>> ActiveHostsAsync(IHost silo)
    {
        var management = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        return (await management.GetHosts(onlyActive: true)).Keys;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, TestSiloProcess victim, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(45))
            {
                Assert.Fail($"Not within 45 s: {what}. The silo process's log:\n{victim.Log}");
            }

            await Task.Delay(200, cancellationToken);
        }
    }
}
