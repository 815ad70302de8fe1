namespace TSViz.Monitor.Web;

/// <summary>The web view's and explorer's registrations and endpoints.</summary>
internal static class WebRegistration
{
    /// <summary>The on-demand explainers behind the explorer (their own threads, apart from the live path).</summary>
    public static IServiceCollection AddTsvizWeb(this IServiceCollection services)
    {
        services.AddSingleton<InteractiveExplainer>();
        services.AddSingleton<ModelInversion>();
        return services;
    }

    /// <summary>The web view's pages and the explorer's API (both read the history, so mapped only with it).</summary>
    public static WebApplication MapTsvizWeb(this WebApplication app)
    {
        app.MapWebView();
        app.MapExplorerApi();
        return app;
    }
}
