using Microsoft.Extensions.DependencyInjection;

namespace TSViz.Plugins.History.Sqlite;

/// <summary>The SQLite history's one registration.</summary>
public static class SqliteHistoryRegistration
{
    /// <summary>
    /// Registers the history in the SQLite file <paramref name="settings"/> names (path and busy timeout, read when
    /// first resolved) as every history contract (<see cref="HistoryServiceCollectionExtensions.AddHistoryStore{TStore}"/>).
    /// </summary>
    public static IServiceCollection AddSqliteHistory(this IServiceCollection services, Func<IServiceProvider, (string Path, TimeSpan BusyTimeout)> settings)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        return services.AddHistoryStore(sp =>
        {
            var (path, busyTimeout) = settings(sp);
            return new SqliteHistoryStore(path, busyTimeout, sp.GetService<TimeProvider>() ?? TimeProvider.System);
        });
    }
}
