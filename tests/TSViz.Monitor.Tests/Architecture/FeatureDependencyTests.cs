using TSViz.Monitor.Hosting;
using TSViz.Monitor.Settings;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Architecture;

/// <summary>
/// The features of TSViz.Monitor (one folder and namespace each) depend on each other only along the edges listed
/// here; Hosting, the composition root, is the one feature that may use every other. A new edge fails the test until it
/// is added below with its reason; an edge that went away fails it until its line is removed, so the table stays the
/// real graph; and the graph it lists has no cycle.
/// </summary>
public sealed class FeatureDependencyTests
{
    private const string Hosting = "Hosting";

    /// <summary>(from, to): why from uses to.</summary>
    private static readonly Dictionary<(string From, string To), string> Allowed = new()
    {
        // Cli holds what every verb shares (VerbErrors); the verbs' list itself is Hosting's (MonitorCommandLine).
        [("Analysis", "Cli")] = "the cluster, prune and evaluate verbs report errors through VerbErrors",
        [("Benchmarking", "Cli")] = "the bench verb reports errors through VerbErrors",
        [("Explaining", "Cli")] = "the explain verb reports errors through VerbErrors",
        [("History", "Cli")] = "the history verb reports errors through VerbErrors",
        [("Jobs", "Cli")] = "the jobs verb reports errors through VerbErrors",
        [("MqttSecurity", "Cli")] = "the mqtt-user verb reports errors through VerbErrors",
        [("Security", "Cli")] = "the keys verb reports errors through VerbErrors",
        [("Training", "Cli")] = "the train and export verbs report errors through VerbErrors",

        // Explaining holds the explanation's JSON shape (ChannelRows, WindowLine) that every reader and writer shares.
        [("Analysis", "Explaining")] = "cluster and prune read the explain verb's window lines",
        [("Benchmarking", "Cluster")] = "the history benchmark times cluster mode's staged-input COPY",
        [("Benchmarking", "Explaining")] = "the history benchmark writes explanation JSON",
        [("History", "Explaining")] = "the history API returns explanation JSON",
        [("Live", "Explaining")] = "the processor writes explanation JSON",
        [("Web", "Explaining")] = "the explorer returns explanation JSON",

        [("Analysis", "Training")] = "reference data names the training workloads",
        [("Benchmarking", "Live")] = "the live benchmark drives the live path's messages and model",
        [("History", "Security")] = "the history API's endpoints declare their roles",
        [("Jobs", "Security")] = "the jobs API's endpoints declare their roles",
        [("Jobs", "History")] = "the jobs API parses paging parameters with the history API's ApiParameters",
        [("Jobs", "Live")] = "the analysis job analyses the deployed model's own file (LiveModel) and publishes its summary through Live's IResultPublisher contract; the patterns job has the live matcher reload, the drift job the live drift comparison",
        [("History", "Live")] = "the drift API reads the live drift comparison's state (DriftMonitor)",
        [("Web", "History")] = "the explorer reads stored windows and parses the history API's parameters",
        [("Web", "Live")] = "the explorer explains stored windows with the deployed model (LiveModel)",

        // Settings is the shared kernel: section Monitor bound to one class per section, each with its own rules. It uses no
        // feature; rules a feature must judge (live path, MQTT security, HTTP) are that feature's IValidateOptions.
        [("Benchmarking", "Settings")] = "the live benchmark configures the monitor it runs",
        [("History", "Settings")] = "the history's registration reads HistorySettings",
        [("Jobs", "Settings")] = "the jobs read JobSettings and the history's path",
        [("Live", "Settings")] = "the live path reads its sections (Mqtt, Health, Simulator, Sparkplug, ...)",
        [("MqttSecurity", "Settings")] = "the broker's access policy reads MqttSettings",
        [("Security", "Settings")] = "the HTTP security reads SecuritySettings and HttpUrl",
        [("Web", "Settings")] = "the explorer reads InteractiveSettings",

        [("Cluster", "Settings")] = "cluster mode reads Monitor:Cluster and the sections it needs",
        [("Cluster", "Live")] = "the input router and the machines' owners feed the live path's queues and acknowledgement tracker",

        [("Live", "MqttSecurity")] = "the embedded broker applies the broker's secrets, access policy and password hashes",
    };

    /// <summary>
    /// What each feature offers the others (Hosting aside): the only types another feature may use. The rest of a
    /// feature is its internals. Settings is the shared kernel, every type of it offered.
    /// </summary>
    private static readonly Dictionary<string, (string[] Types, string Why)> Offered = new()
    {
        ["Cli"] = (["VerbErrors"], "what every verb shares"),
        ["Cluster"] = (["ClusterDatabase", "ClusterMetrics", "MachineSamples", "StagedInput"], "the history benchmark times the staged-input COPY as cluster mode runs it"),
        ["Explaining"] = (
            [
                "ChannelRows", "WindowLine", "WindowLines", "CounterfactualDocument", "CounterfactualMessage", "CounterfactualChangeMessage",
                "DriftMessage", "DriftKindMessage", "DriftMoveMessage", "DriftReferenceMessage", "DriftDistributionMessage", "DriftDetailResponse", "DriftEventMessage",
            ],
            "the explanation's channel rows, the window-lines format every verb and API reads, the alert counterfactual's JSON the live path writes and the history API returns, and the drift messages the live path publishes and the drift API returns"),
        ["History"] = (["ApiParameters"], "the API's parameter parsing and problem details, shared by every API"),
        ["Live"] = (
            [
                "LiveModel", "IResultPublisher", "AlertPatternMatcher", "DriftMonitor", "SimulatedMachine",
                "LiveQueues", "AcknowledgementTracker", "InFlightMessage", "StageHealth", "LiveMetrics", "MqttGateway", "MqttConnection",
                "ExplanationMessage", "RobustnessMessage", "TimingsMessage", "TopFilterMessage", "TopStepMessage", "LiveJsonContext",
            ],
            "the deployed model and the publishing contract (Web, Jobs); the live drift comparison the drift job reloads and the drift API reads; the simulated machine the drift benchmark steps offline; the stages' queues, tracker and health that cluster mode's router feeds and the live benchmark drives; the published explanation message"),
        ["MqttSecurity"] = (["BrokerAccessPolicy", "BrokerRole", "ConnectDecision", "EmbeddedBrokerSecrets", "RefusalLog"], "the embedded broker (Live) applies the access policy and the secrets"),
        ["Security"] = (["Roles", "SecurityApi"], "the roles every endpoint declares and the audit log of changes made through an API"),
        ["Training"] = (["ReferenceWorkload", "WorkloadKind"], "the reference workloads the analysis verbs load"),
    };

    private static readonly System.Reflection.Assembly Monitor = typeof(MonitorHost).Assembly;

    [Fact]
    public void Features_UseEachOtherOnlyThroughWhatTheyOffer()
    {
        var used = FeatureReferences.UsedByOthers(Monitor, Hosting);
        var internals = used.Where(u => u.Key != "Settings")
            .SelectMany(u => u.Value.Where(t => !(Offered.TryGetValue(u.Key, out var offered) && offered.Types.Contains(t.Key)))
                .Select(t => $"{u.Key}.{t.Key} (used by {t.Value})"))
            .ToList();
        Assert.True(internals.Count == 0,
            $"{internals.Count} uses of another feature's internals (offer the type in the table with the reason, or go through what it offers):\n{string.Join('\n', internals)}");

        var stale = Offered.SelectMany(o => o.Value.Types.Where(t => !(used.TryGetValue(o.Key, out var types) && types.ContainsKey(t))).Select(t => $"{o.Key}.{t}")).ToList();
        Assert.True(stale.Count == 0, $"Offered types no other feature uses (remove them):\n{string.Join('\n', stale)}");
    }

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
    public void AllowedTable_HasNoCycle()
    {
        // Depth-first search over the allowed edges: a feature met again on the path it is reached from closes a cycle.
        var next = Allowed.Keys.GroupBy(k => k.From).ToDictionary(g => g.Key, g => g.Select(k => k.To).ToList());
        var done = new HashSet<string>();
        var path = new List<string>();
        string? Cycle(string feature)
        {
            int at = path.IndexOf(feature);
            if (at >= 0)
            {
                return string.Join(" -> ", path.Skip(at).Append(feature));
            }

            if (!done.Add(feature))
            {
                return null;
            }

            path.Add(feature);
            foreach (string to in next.GetValueOrDefault(feature) ?? [])
            {
                if (Cycle(to) is { } found)
                {
                    return found;
                }
            }

            path.RemoveAt(path.Count - 1);
            return null;
        }

        foreach (string feature in next.Keys)
        {
            string? cycle = Cycle(feature);
            Assert.True(cycle is null, $"The features depend on each other in a circle: {cycle}");
        }
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
