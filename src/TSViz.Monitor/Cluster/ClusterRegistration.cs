using System.Net;
using Orleans.Configuration;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// Cluster mode's registrations (Monitor:Cluster:Enabled): this node as an Orleans silo in the cluster whose
/// membership is in the history's PostgreSQL, the machines' grains, the input router, the owners' entry and the
/// takeover of dead nodes' MQTT sessions. Alone
/// (the default) nothing of it is registered and the live path runs as it always has.
/// </summary>
internal static class ClusterRegistration
{
    /// <summary>
    /// How fast the nodes notice a dead one: probed every second, declared dead after two missed probes by one vote
    /// (a small cluster; Orleans' defaults take about 6 s, these about 1 s), membership table re-read every 2 s (so a
    /// node wrongly declared dead learns it within 2 s and stops; the dead node's machines wait that long, see
    /// <see cref="RangeLease"/>).
    /// </summary>
    public static void Tune(ClusterMembershipOptions membership)
    {
        ArgumentNullException.ThrowIfNull(membership);
        membership.ProbeTimeout = TimeSpan.FromSeconds(1);
        membership.NumMissedProbesLimit = 2;
        membership.NumVotesForDeathDeclaration = 1;
        membership.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
        membership.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        membership.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>
    /// How long after a node's estimated failure its machines may activate elsewhere: the failure detection window
    /// (Orleans counts the lease from the failure, estimated as the death declaration minus that window) plus one
    /// membership table refresh, by which a node wrongly declared dead has read its own death and stopped. Orleans'
    /// default (30 s) kept the dead node's machines without an owner for over 20 s after the declaration; this one for
    /// 2 s.
    /// </summary>
    public static TimeSpan RangeLease(ClusterMembershipOptions membership)
    {
        ArgumentNullException.ThrowIfNull(membership);
        return membership.MaxProbeTimeout * membership.NumMissedProbesLimit + membership.TableRefreshTimeout;
    }

    private static T Also<T>(this T value, Action<T> change)
    {
        change(value);
        return value;
    }

    /// <summary>Registers cluster mode when <paramref name="settings"/> turn it on; before the live path, so the silo is up when input arrives.</summary>
    public static WebApplicationBuilder AddTsvizCluster(this WebApplicationBuilder builder, MonitorOptions settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        var cluster = settings.Cluster;
        if (!cluster.Enabled)
        {
            return builder;
        }

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = "tsviz-monitor";
            });
            silo.Configure<SiloOptions>(o => o.SiloName = cluster.NodeName);
            silo.ConfigureEndpoints(IPAddress.Parse(cluster.AdvertisedAddress), cluster.SiloPort, cluster.GatewayPort);
            silo.Configure<ClusterMembershipOptions>(Tune);
            // The strongly consistent directory: a node's death does not take the registrations it held with it. With
            // the default (eventually consistent) one, every live activation registered on a dead node is deactivated,
            // and the machine's next owner can start before the previous one's last samples are durable (seen as
            // windows lost after a failover). Orleans marks it experimental.
#pragma warning disable ORLEANSEXP003
            silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
            silo.Configure<GrainDirectoryOptions>(o => o.RangeLeaseDuration = RangeLease(new ClusterMembershipOptions().Also(Tune)));
            Membership(silo, settings);
        });
        builder.Services.AddSingleton<ClusterMetrics>();
        builder.Services.AddSingleton<ClusterDatabase>();
        builder.Services.AddSingleton<OwnedMachines>();
        builder.Services.AddSingleton<InputHold>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<InputHold>());
        builder.Services.AddSingleton<StagedInput>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StagedInput>());
        builder.Services.AddHostedService<InputRouter>();
        builder.Services.AddHostedService<SessionTakeover>();
        return builder;
    }

    /// <summary>The cluster's membership in the history's PostgreSQL, in our own tables (<see cref="PostgresMembershipTable"/>).</summary>
    private static void Membership(ISiloBuilder silo, MonitorOptions settings)
        => silo.UsePostgresClustering(services => services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MonitorOptions>>().Value.History.ConnectionString!);
}
