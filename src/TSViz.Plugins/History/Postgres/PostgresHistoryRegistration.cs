using Microsoft.Extensions.DependencyInjection;

namespace TSViz.Plugins.History.Postgres;

/// <summary>The PostgreSQL history's one registration.</summary>
public static class PostgresHistoryRegistration
{
    /// <summary>
    /// Registers the history in the PostgreSQL database <paramref name="connectionString"/> names (an Npgsql connection
    /// string, read when first resolved) as every history contract
    /// (<see cref="HistoryServiceCollectionExtensions.AddHistoryStore{TStore}"/>). The container disposes the store, and
    /// with it its pooled connections.
    /// </summary>
    public static IServiceCollection AddPostgresHistory(this IServiceCollection services, Func<IServiceProvider, string> connectionString)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(connectionString);
        return services.AddHistoryStore(sp => new PostgresHistoryStore(connectionString(sp), sp.GetService<TimeProvider>() ?? TimeProvider.System));
    }
}
