using Microsoft.Extensions.Options;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History.Postgres;
using TSViz.Plugins.History.Sqlite;

namespace TSViz.Monitor.History;

/// <summary>The explanation history's registrations: the SQLite or PostgreSQL store and its schema at start (the live path's writer is Live's).</summary>
internal static class HistoryRegistration
{
    /// <summary>Registers the history when <paramref name="history"/> is enabled.</summary>
    public static IServiceCollection AddTsvizHistory(this IServiceCollection services, HistorySettings history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Enabled)
        {
            // One registration; each consumer resolves only the history contract it uses.
            if (history.IsPostgres)
            {
                services.AddPostgresHistory(sp => sp.GetRequiredService<IOptions<MonitorOptions>>().Value.History.ConnectionString!);
            }
            else
            {
                services.AddSqliteHistory(sp =>
                {
                    var bound = sp.GetRequiredService<IOptions<MonitorOptions>>().Value.History;
                    return (bound.Path, TimeSpan.FromSeconds(bound.BusyTimeoutSeconds));
                });
            }

            services.AddHostedService<HistoryInitializer>();
        }

        return services;
    }
}
