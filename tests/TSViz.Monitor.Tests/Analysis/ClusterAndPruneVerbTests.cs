using System.Text.Json;
using TSViz.Explain.Data;
using TSViz.Explain.Pruning;
using TSViz.Monitor.Tests.Cli;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Analysis;

public sealed class ClusterAndPruneVerbTests
{
    private static readonly int[] FilterCounts = [16, 32, 64];

    [Fact]
    public async Task Cluster_Windows_WritesDendrogramSilhouetteAndLabelsPerLayer()
    {
        string directory = RepositoryPaths.NewTempDirectory();
        string input = await WriteWindows(directory, 30, withTargets: false);
        string output = Path.Combine(directory, "clusters.json");

        var (exit, stdout, error) = await VerbRunner.Run("cluster", "--model", RepositoryPaths.AnomalyModel, "--input", input, "--output", output);

        Assert.True(exit == 0, error);
        Assert.Contains("112 filters clustered", stdout, StringComparison.Ordinal);
        var root = JsonDocument.Parse(await File.ReadAllTextAsync(output)).RootElement;
        Assert.Equal(30, root.GetProperty("windows").GetInt32());
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(3, layers.Count);
        foreach (var (layer, n) in layers.Zip(FilterCounts))
        {
            Assert.Equal(n, layer.GetProperty("filters").GetArrayLength());
            Assert.Equal(n, layer.GetProperty("distances").GetArrayLength());
            Assert.Equal(n - 1, layer.GetProperty("merges").GetArrayLength());
            Assert.Equal(n - 2, layer.GetProperty("silhouette").GetArrayLength());
            Assert.Equal(2, layer.GetProperty("silhouette")[0].GetProperty("k").GetInt32());
            int k = layer.GetProperty("chosenK").GetInt32();
            Assert.Equal(k, layer.GetProperty("labels").EnumerateArray().Select(l => l.GetInt32()).Distinct().Count());
            var merge = layer.GetProperty("merges")[0];
            Assert.True(merge.TryGetProperty("height", out _) && merge.TryGetProperty("size", out _));
        }
    }

    [Fact]
    public async Task PruneFaithfulness_WindowsWithTargets_WritesSevenRows()
    {
        string directory = RepositoryPaths.NewTempDirectory();
        string input = await WriteWindows(directory, 400, withTargets: true);
        string output = Path.Combine(directory, "table.json");

        var (exit, stdout, error) = await VerbRunner.Run("prune", "--faithfulness", "--model", RepositoryPaths.AnomalyModel, "--input", input, "--output", output);

        Assert.True(exit == 0, error);
        Assert.Contains("| conv3 | most contributing", stdout, StringComparison.Ordinal); // the default criterion
        var rows = JsonDocument.Parse(await File.ReadAllTextAsync(output)).RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(7, rows.Count);
        Assert.All(rows.Skip(1), r => Assert.True(r.GetProperty("after").TryGetProperty("accuracy", out _)));
        Assert.Equal(["none", "least", "most", "least", "most", "least", "most"], rows.Select(r => r.GetProperty("which").GetString()));
        Assert.Equal("contribution", JsonDocument.Parse(await File.ReadAllTextAsync(output)).RootElement.GetProperty("criterion").GetString());
        Assert.All(rows.Skip(1), r => Assert.True(r.TryGetProperty("meanContribution", out _)));

        var (again, influenceTable, againError) = await VerbRunner.Run("prune", "--faithfulness", "--criterion", "influence", "--model", RepositoryPaths.AnomalyModel, "--input", input, "--output", output);
        Assert.True(again == 0, againError);
        Assert.Contains("| conv3 | most influential", influenceTable, StringComparison.Ordinal);
        Assert.Equal("influence", JsonDocument.Parse(await File.ReadAllTextAsync(output)).RootElement.GetProperty("criterion").GetString());
    }

    [Fact]
    public async Task PruneDamage_ShippedForecaster_RowForEveryFilter_SpearmanInRangeAndRecomputableFromTheRows()
    {
        string output = Path.Combine(RepositoryPaths.NewTempDirectory(), "damage.json");

        // A subset of the reference data keeps it to seconds: 112 filters, each zeroed and evaluated on 400 windows.
        var (exit, stdout, error) = await VerbRunner.Run("prune", "--damage", "--model", RepositoryPaths.TrafficModel, "--data", RepositoryPaths.TrafficData,
            "--influence-windows", "400", "--evaluation-windows", "400", "--output", output);

        Assert.True(exit == 0, error);
        Assert.Contains("| Layer | Filters | Spearman (influence) | Spearman (contribution) |", stdout, StringComparison.Ordinal);
        Assert.Contains("evaluation on the first 400", stdout, StringComparison.Ordinal);
        var root = JsonDocument.Parse(await File.ReadAllTextAsync(output)).RootElement;
        var filters = root.GetProperty("filters").EnumerateArray().ToList();
        Assert.Equal(112, filters.Count);
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["conv1", "conv2", "conv3"], layers.Select(l => l.GetProperty("layer").GetString()));
        foreach (var (layer, n) in layers.Zip(FilterCounts))
        {
            string name = layer.GetProperty("layer").GetString()!;
            Assert.Contains($"| {name} | {n} |", stdout, StringComparison.Ordinal);
            var rows = filters.Where(f => f.GetProperty("layer").GetString() == name).ToList();
            Assert.Equal(Enumerable.Range(0, n), rows.Select(r => r.GetProperty("filter").GetInt32()));
            Assert.Equal(n, layer.GetProperty("filters").GetInt32());
            var damage = rows.Select(r => r.GetProperty("damagePercent").GetDouble()).ToArray();
            foreach (var (criterion, property) in new[] { ("influence", "spearmanInfluence"), ("contribution", "spearmanContribution") })
            {
                double rho = layer.GetProperty(property).GetDouble();
                Assert.InRange(rho, -1, 1);
                var scores = rows.Select(r => r.GetProperty(criterion).GetDouble()).ToArray();
                Assert.Equal(RankCorrelation.Spearman(scores, damage), rho, 9);
            }

            // The extremes under each criterion are the rows with the smallest and largest score.
            var byContribution = layer.GetProperty("byContribution");
            var least = rows.MinBy(r => r.GetProperty("contribution").GetDouble());
            Assert.Equal(least.GetProperty("filter").GetInt32(), byContribution.GetProperty("least").GetInt32());
            Assert.Equal(least.GetProperty("damagePercent").GetDouble(), byContribution.GetProperty("leastPercentChange").GetDouble());
        }
    }

    [Fact]
    public async Task PruneProgressive_WritesCsvAndSvg()
    {
        string directory = RepositoryPaths.NewTempDirectory();
        string input = await WriteWindows(directory, 200, withTargets: true);
        string output = Path.Combine(directory, "curve.csv");

        var (exit, _, error) = await VerbRunner.Run("prune", "--progressive", "3", "--model", RepositoryPaths.AnomalyModel, "--input", input, "--output", output);

        Assert.True(exit == 0, error);
        var lines = await File.ReadAllLinesAsync(output);
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("removed,layer,filter", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("<svg", await File.ReadAllTextAsync(Path.ChangeExtension(output, ".svg")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prune --output x.json", "exactly one of")]
    [InlineData("prune --damage --faithfulness --output x.json", "exactly one of")]
    [InlineData("prune --candidates --criterion gradient --output x.json", "use one of influence, contribution")]
    [InlineData("prune --remove conv9:1 --output x.onnx", "conv1 (16 filters, 0..15)")]
    [InlineData("prune --remove conv2:40 --output x.onnx", "0..31")]
    [InlineData("prune --remove conv2 --output x.onnx", "layer:index")]
    public async Task Prune_BadArguments_ExitWithTwoAndSayWhy(string arguments, string expected)
    {
        var args = arguments.Split(' ').Concat(["--model", RepositoryPaths.AnomalyModel]).ToArray();
        var (exit, _, error) = await VerbRunner.Run(args);
        Assert.Equal(2, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PruneRemove_WritesASmallerModelTheMonitorLoads()
    {
        string output = Path.Combine(RepositoryPaths.NewTempDirectory(), "pruned.onnx");
        var (exit, stdout, error) = await VerbRunner.Run("prune", "--remove", "conv3:1", "conv3:2", "--model", RepositoryPaths.AnomalyModel, "--output", output);
        Assert.True(exit == 0, error);
        Assert.Contains("conv3:1, conv3:2 removed", stdout, StringComparison.Ordinal);
        using var scorer = TSViz.Plugins.Scoring.OnnxRuntimeScorer.Open(output);
        Assert.Equal("anomaly-cnn", scorer.Metadata.Name);
    }

    private static async Task<string> WriteWindows(string directory, int count, bool withTargets)
    {
        var data = new AnomalyDatasetGenerator(91).Generate(count).Windows;
        string path = Path.Combine(directory, "windows.jsonl");
        var lines = Enumerable.Range(0, count).Select(i =>
        {
            var v = data.Window(i).ToArray();
            var values = Enumerable.Range(0, 3).Select(c => v.Skip(c * 50).Take(50).ToArray()).ToArray();
            return withTargets
                ? JsonSerializer.Serialize(new { id = $"w{i}", values, target = data.Targets[i] })
                : JsonSerializer.Serialize(new { id = $"w{i}", values });
        });
        await File.WriteAllLinesAsync(path, lines);
        return path;
    }
}
