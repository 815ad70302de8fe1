using Microsoft.Extensions.DependencyInjection;

namespace TSViz.Plugins.History;

/// <summary>Registers a history store once, so that each of its contracts resolves to the same instance.</summary>
public static class HistoryServiceCollectionExtensions
{
    /// <summary>
    /// Registers <typeparamref name="TStore"/> as a singleton made by <paramref name="create"/>, and every history
    /// contract (<see cref="IHistoryStore"/> and the small ones it is made of) as that one instance.
    /// </summary>
    public static IServiceCollection AddHistoryStore<TStore>(this IServiceCollection services, Func<IServiceProvider, TStore> create)
        where TStore : class, IHistoryStore
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(create);
        services.AddSingleton(create);
        services.AddSingleton<IHistoryStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IHistorySchema>(sp => sp.GetRequiredService<IHistoryStore>());
        services.AddSingleton<IHistoryWriter>(sp => sp.GetRequiredService<IHistoryStore>());
        services.AddSingleton<IHistoryRestartState>(sp => sp.GetRequiredService<IHistoryStore>());
        services.AddSingleton<IHistoryQueries>(sp => sp.GetRequiredService<IHistoryStore>());
        services.AddSingleton<IHistoryAggregates>(sp => sp.GetRequiredService<IHistoryStore>());
        services.AddSingleton<IFeedbackStore>(sp => sp.GetRequiredService<IHistoryStore>());
        services.AddSingleton<ICounterfactualStore>(sp => sp.GetRequiredService<IHistoryStore>());
        services.AddSingleton<IAlertPatternStore>(sp => sp.GetRequiredService<IHistoryStore>());
        services.AddSingleton<IDriftStore>(sp => sp.GetRequiredService<IHistoryStore>());
        services.AddSingleton<IAnalysisStore>(sp => sp.GetRequiredService<IHistoryStore>());
        services.AddSingleton<IHistoryRetention>(sp => sp.GetRequiredService<IHistoryStore>());
        return services;
    }
}
