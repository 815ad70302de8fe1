using Microsoft.Extensions.Options;
using TSViz.Monitor.Live;
using TSViz.Plugins.History.Sqlite;

namespace TSViz.Monitor.History;

/// <summary>The explanation history's registrations: the SQLite store, its schema at start and the live path's writer.</summary>
internal static class HistoryRegistration
{
    /// <summary>Registers the history when <paramref name="history"/> is enabled, and the writer always (it stores nothing without one).</summary>
    public static IServiceCollection AddTsvizHistory(this IServiceCollection services, HistorySettings history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Enabled)
        {
            // One registration; each consumer resolves only the history contract it uses.
            services.AddSqliteHistory(sp =>
            {
                var bound = sp.GetRequiredService<IOptions<MonitorOptions>>().Value.History;
                return (bound.Path, TimeSpan.FromSeconds(bound.BusyTimeoutSeconds));
            });
            services.AddHostedService<HistoryInitializer>();
        }

        services.AddSingleton<HistoryWriter>();
        return services;
    }
}
