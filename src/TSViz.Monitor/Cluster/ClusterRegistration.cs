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
    /// (a small cluster; Orleans' defaults take about 6 s, these about 1 s), membership table re-read every 5 s.
    /// </summary>
    public static void Tune(ClusterMembershipOptions membership)
    {
        ArgumentNullException.ThrowIfNull(membership);
        membership.ProbeTimeout = TimeSpan.FromSeconds(1);
        membership.NumMissedProbesLimit = 2;
        membership.NumVotesForDeathDeclaration = 1;
        membership.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
        membership.TableRefreshTimeout = TimeSpan.FromSeconds(5);
        membership.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
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
            Membership(silo, settings);
        });
        builder.Services.AddSingleton<ClusterMetrics>();
        builder.Services.AddSingleton<OwnedMachines>();
        builder.Services.AddSingleton<InputHold>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<InputHold>());
        builder.Services.AddHostedService<InputRouter>();
        builder.Services.AddHostedService<SessionTakeover>();
        return builder;
    }

    /// <summary>The cluster's membership in the history's PostgreSQL, in our own tables (<see cref="PostgresMembershipTable"/>).</summary>
    private static void Membership(ISiloBuilder silo, MonitorOptions settings)
        => silo.UsePostgresClustering(services => services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MonitorOptions>>().Value.History.ConnectionString!);
}
