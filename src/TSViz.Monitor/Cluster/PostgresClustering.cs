using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;

namespace TSViz.Monitor.Cluster;

/// <summary>Makes a silo keep the cluster's membership in PostgreSQL, in our own tables (<see cref="PostgresMembershipTable"/>).</summary>
public static class PostgresClustering
{
    /// <summary>
    /// Registers <see cref="PostgresMembershipTable"/> as the silo's <see cref="IMembershipTable"/> (in place of any
    /// other clustering), for the silo's <see cref="ClusterOptions.ClusterId"/>; the silo creates the tables and the
    /// cluster's version row at start. Every node is a silo, so no gateway list provider is registered (an external
    /// Orleans client would need one).
    /// </summary>
    /// <param name="silo">The silo being built.</param>
    /// <param name="connectionString">The cluster's PostgreSQL connection string, asked once when the table is made.</param>
    /// <returns><paramref name="silo"/>.</returns>
    public static ISiloBuilder UsePostgresClustering(this ISiloBuilder silo, Func<IServiceProvider, string> connectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(connectionString);
        silo.Services.RemoveAll<IMembershipTable>();
        silo.Services.AddSingleton<IMembershipTable>(services => new PostgresMembershipTable(
            NpgsqlDataSource.Create(connectionString(services)),
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId,
            services.GetRequiredService<ILogger<PostgresMembershipTable>>(),
            ownsDatabase: true));
        return silo;
    }
}
