using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Plugins.History;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.History;

/// <summary>The history registered once, resolved by contract; its consumers name the contract, never the SQLite class.</summary>
public sealed class HistoryRegistrationTests
{
    [Fact]
    public async Task Build_HistoryOn_EveryContractResolvesToTheOneStore()
    {
        string database = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db");
        await using var app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{Loopback.FreePort().ToString(CultureInfo.InvariantCulture)}",
            ["Monitor:History:Path"] = database,
        });

        var store = app.Services.GetRequiredService<IHistoryStore>();
        Assert.Same(store, app.Services.GetRequiredService<IHistorySchema>());
        Assert.Same(store, app.Services.GetRequiredService<IHistoryWriter>());
        Assert.Same(store, app.Services.GetRequiredService<IHistoryRestartState>());
        Assert.Same(store, app.Services.GetRequiredService<IHistoryQueries>());
        Assert.Same(store, app.Services.GetRequiredService<IHistoryAggregates>());
        Assert.Same(store, app.Services.GetRequiredService<IFeedbackStore>());
        Assert.Same(store, app.Services.GetRequiredService<IAnalysisStore>());
        Assert.Same(store, app.Services.GetRequiredService<IHistoryRetention>());
        Assert.Equal(Path.GetFullPath(database), store.Location);
    }

    [Fact]
    public async Task Build_HistoryOff_NoContractIsRegistered()
    {
        await using var app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{Loopback.FreePort().ToString(CultureInfo.InvariantCulture)}",
            ["Monitor:History:Enabled"] = "false",
        });

        Assert.Null(app.Services.GetService<IHistoryStore>());
        Assert.Null(app.Services.GetService<IHistoryQueries>());
        Assert.Null(app.Services.GetService<IHistoryWriter>());
    }

    /// <summary>
    /// Only the registration and the tools that read the SQLite file itself (the history verb, the benchmark) name the
    /// SQLite store; only the registration names the composite. Everything else takes a small contract, so a second
    /// store (PostgreSQL) is one set of classes and one registration.
    /// </summary>
    [Fact]
    public void MonitorSources_NameTheSqliteStoreAndTheCompositeOnlyWhereTheyRegisterOrReadTheFile()
    {
        string src = Path.Combine(RepositoryPaths.Root, "src", "TSViz.Monitor");
        string[] sqliteAllowed = ["History/HistoryVerb.cs", "Benchmarking/HistoryBench.cs"];
        string Relative(string file) => Path.GetRelativePath(src, file).Replace('\\', '/');
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Relative(f).StartsWith("obj/", StringComparison.Ordinal) && !Relative(f).StartsWith("bin/", StringComparison.Ordinal))
            .ToDictionary(Relative, File.ReadAllText);

        Assert.Empty(files.Where(f => f.Value.Contains("SqliteHistoryStore", StringComparison.Ordinal) && !sqliteAllowed.Contains(f.Key)).Select(f => f.Key));
        Assert.Empty(files.Where(f => f.Value.Contains("IHistoryStore", StringComparison.Ordinal)).Select(f => f.Key));
    }
}
