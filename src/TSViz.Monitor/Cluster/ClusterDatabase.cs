using Microsoft.Extensions.Options;
using Npgsql;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// The connection pool of cluster mode's own tables (cluster_takeovers, cluster_input) in the history's PostgreSQL,
/// shared by <see cref="InputHold"/> and <see cref="StagedInput"/>. The membership table keeps a pool of its own, so
/// liveness never waits behind the input's writes.
/// </summary>
internal sealed class ClusterDatabase(IOptions<MonitorOptions> options) : IDisposable
{
    private readonly Lazy<NpgsqlDataSource> source = new(() => NpgsqlDataSource.Create(options.Value.History.ConnectionString!));

    public NpgsqlDataSource Source => source.Value;

    public void Dispose()
    {
        if (source.IsValueCreated)
        {
            source.Value.Dispose();
        }
    }
}
