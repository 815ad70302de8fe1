using TSViz.Monitor.Hosting;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Architecture;

/// <summary>
/// The features of TSViz.Monitor (one folder and namespace each) depend on each other only along the edges listed
/// here; Hosting, the composition root, is the one feature that may use every other. A new edge fails the test until it
/// is added below with its reason; an edge that went away fails it until its line is removed, so the table stays the
/// real graph and each cycle left in it can be broken, and struck off, on its own.
/// </summary>
public sealed class FeatureDependencyTests
{
    private const string Hosting = "Hosting";

    /// <summary>(from, to): why from uses to. Lines marked "cycle" are one direction of a cycle still to break.</summary>
    private static readonly Dictionary<(string From, string To), string> Allowed = new()
    {
        // Cli holds what every verb shares (VerbErrors); the verbs' list itself is Hosting's (MonitorCommandLine).
        [("Analysis", "Cli")] = "the cluster and prune verbs report errors through VerbErrors",
        [("Benchmarking", "Cli")] = "the bench verb reports errors through VerbErrors",
        [("Explaining", "Cli")] = "the explain verb reports errors through VerbErrors",
        [("History", "Cli")] = "the history verb reports errors through VerbErrors",
        [("Jobs", "Cli")] = "the jobs verb reports errors through VerbErrors",
        [("MqttSecurity", "Cli")] = "the mqtt-user verb reports errors through VerbErrors",
        [("Security", "Cli")] = "the keys verb reports errors through VerbErrors",
        [("Training", "Cli")] = "the train and export verbs report errors through VerbErrors",

        // Explaining holds the explanation's JSON shape (ChannelRows, WindowLine) that every reader and writer shares.
        [("Analysis", "Explaining")] = "cluster and prune read the explain verb's window lines",
        [("Benchmarking", "Explaining")] = "the history benchmark writes explanation JSON",
        [("History", "Explaining")] = "the history API returns explanation JSON",
        [("Live", "Explaining")] = "the processor writes explanation JSON",
        [("Web", "Explaining")] = "the explorer returns explanation JSON",

        [("Analysis", "Training")] = "reference data names the training workloads",
        [("Benchmarking", "Live")] = "the live benchmark drives the live path's messages and model",
        [("History", "Security")] = "the history API's endpoints declare their roles",
        [("Jobs", "Security")] = "the jobs API's endpoints declare their roles",
        [("Jobs", "History")] = "the jobs API parses paging parameters with the history API's ApiParameters",
        [("Jobs", "Live")] = "MonitorOptions and MonitorMetrics live in Live, and the analysis job publishes through Live's IResultPublisher contract",
        [("Web", "History")] = "the explorer reads stored windows and parses the history API's parameters",
        [("Web", "Live")] = "the explorer explains with the live model and reads MonitorOptions",

        // Cycles still to break: Live is both a feature and the shared kernel (MonitorOptions and its sections, metrics, messages).
        [("History", "Live")] = "cycle: HistorySettings, MonitorOptions, metrics and the live messages it stores live in Live (move them to a shared kernel)",
        [("Live", "History")] = "cycle: the processor stores through the concrete HistoryWriter (give the live path a history sink contract)",
        [("Security", "Live")] = "cycle: its validator and handlers read MonitorOptions, which lives in Live",
        [("Live", "Security")] = "cycle: MonitorOptions (in Live) holds SecuritySettings and validates HttpUrl with HttpBinding",
        [("MqttSecurity", "Live")] = "cycle: the broker's access policy reads MqttSettings, which lives in Live",
        [("Live", "MqttSecurity")] = "cycle: the embedded broker and MqttSettings' validation use the broker's secrets, policy and password hashes",
    };

    private static readonly System.Reflection.Assembly Monitor = typeof(MonitorHost).Assembly;

    [Fact]
    public void Features_ReferenceOtherFeatures_OnlyAlongTheAllowedEdges()
    {
        var edges = FeatureReferences.Edges(Monitor);
        var forbidden = edges.Where(e => e.Key.From != Hosting && !Allowed.ContainsKey(e.Key))
            .Select(e => $"{e.Key.From} -> {e.Key.To} (e.g. {e.Value})").ToList();
        Assert.True(forbidden.Count == 0,
            $"{forbidden.Count} feature references outside the allowed table (use a contract of the shared kernel, or add the edge with its reason):\n{string.Join('\n', forbidden)}");
    }

    [Fact]
    public void AllowedTable_ListsOnlyEdgesThatExist()
    {
        var edges = FeatureReferences.Edges(Monitor);
        var stale = Allowed.Keys.Where(k => !edges.ContainsKey(k)).Select(k => $"{k.From} -> {k.To}").ToList();
        Assert.True(stale.Count == 0, $"Allowed edges no longer used (remove their lines):\n{string.Join('\n', stale)}");
    }

    [Fact]
    public void Hosting_IsTheOnlyFeatureThatMayUseEveryOther()
    {
        var features = Monitor.GetTypes().Select(FeatureReferences.FeatureOf).OfType<string>().ToHashSet();
        Assert.Contains(Hosting, features);
        foreach (var feature in features.Where(f => f != Hosting))
        {
            var reaches = Allowed.Keys.Where(k => k.From == feature).Select(k => k.To).ToHashSet();
            Assert.False(features.Where(f => f != feature).All(reaches.Contains), $"{feature} may use every other feature; only {Hosting} may.");
        }
    }

    [Fact]
    public void Sources_DeclareTheNamespaceOfTheirFolder()
    {
        string source = Path.Combine(RepositoryPaths.Root, "src", "TSViz.Monitor");
        var misplaced = new List<string>();
        foreach (string file in Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith("obj", StringComparison.Ordinal) || relative.StartsWith("bin", StringComparison.Ordinal))
            {
                continue;
            }

            string? folder = Path.GetDirectoryName(relative);
            string expected = string.IsNullOrEmpty(folder) ? "TSViz.Monitor" : "TSViz.Monitor." + folder.Replace(Path.DirectorySeparatorChar, '.');
            string? declared = File.ReadLines(file).FirstOrDefault(l => l.StartsWith("namespace ", StringComparison.Ordinal))?["namespace ".Length..].TrimEnd(';', ' ');
            if (declared is not null && declared != expected)
            {
                misplaced.Add($"{relative}: namespace {declared}, folder says {expected}");
            }
        }

        Assert.True(misplaced.Count == 0, $"Files whose namespace is not their folder (the feature test reads namespaces):\n{string.Join('\n', misplaced)}");
    }
}
