using System.Text.Json;
using TSViz.Explain.Data;
using TSViz.Monitor.Tests.Cli;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Analysis;

/// <summary>
/// `evaluate` on both shipped models with few windows: the table is printed, the JSON holds a row per method and
/// metric and the curves, and the numbers make sense (attributions beat a random order, IG is nearly complete).
/// </summary>
public sealed class EvaluateVerbTests
{
    private static readonly string[] AllMethods = ["gradient", "gradient-x-input", "integrated-gradients", "smoothgrad", "occlusion"];

    [Fact]
    public async Task Evaluate_AnomalyModel_WritesRowsCurvesAndASensibleTable()
    {
        string output = Path.Combine(RepositoryPaths.NewTempDirectory(), "evaluation.json");

        var (exit, stdout, error) = await VerbRunner.Run("evaluate", "--model", RepositoryPaths.AnomalyModel, "--windows", "40", "--output", output);

        Assert.True(exit == 0, error);
        Assert.Contains("| method | windows/s | deletion AUC", stdout, StringComparison.Ordinal);
        Assert.Contains("| AUPRC |", stdout, StringComparison.Ordinal);
        foreach (string method in AllMethods.Append("random"))
        {
            Assert.Contains($"| {method} |", stdout, StringComparison.Ordinal);
        }

        var root = JsonDocument.Parse(await File.ReadAllTextAsync(output)).RootElement;
        Assert.Equal("logit", root.GetProperty("explained").GetString());
        var rows = root.GetProperty("rows").EnumerateArray()
            .ToDictionary(r => (r.GetProperty("method").GetString()!, r.GetProperty("metric").GetString()!), r => r.GetProperty("value").GetDouble());
        foreach (string method in AllMethods)
        {
            foreach (string metric in new[] { "windows-per-second", "deletion-auc", "insertion-auc", "infidelity", "max-sensitivity", "pointing-exact", "auprc" })
            {
                Assert.True(rows.ContainsKey((method, metric)), $"no row for {method} {metric}");
            }
        }

        // Faithful attributions: removing their top cells lowers the logit faster, and inserting them raises it
        // faster, than a random order does.
        foreach (string method in new[] { "gradient", "gradient-x-input", "integrated-gradients" })
        {
            Assert.True(rows[(method, "deletion-auc")] < rows[("random", "deletion-auc")], $"{method} deletion {rows[(method, "deletion-auc")]} not below random {rows[("random", "deletion-auc")]}");
            Assert.True(rows[(method, "insertion-auc")] > rows[("random", "insertion-auc")], $"{method} insertion not above random");
            Assert.InRange(rows[(method, "pointing-within-one-step")], 0.5, 1.0);
        }

        Assert.InRange(rows[("integrated-gradients", "completeness-gap")], 0, 0.05);
        Assert.False(rows.ContainsKey(("gradient", "completeness-gap")));
        var curves = root.GetProperty("curves").EnumerateArray().ToList();
        Assert.Equal(2 * (AllMethods.Length + 1), curves.Count);
        Assert.All(curves, c => Assert.Equal(19, c.GetProperty("values").GetArrayLength()));
    }

    [Fact]
    public async Task Evaluate_TrafficModelWithAliases_ExplainsTheForecastWithoutGroundTruth()
    {
        string output = Path.Combine(RepositoryPaths.NewTempDirectory(), "evaluation.json");

        var (exit, stdout, error) = await VerbRunner.Run(
            "evaluate", "--model", RepositoryPaths.TrafficModel, "--data", RepositoryPaths.TrafficData, "--methods", "grad,ig,gxi", "--windows", "24", "--output", output);

        Assert.True(exit == 0, error);
        Assert.DoesNotContain("AUPRC", stdout, StringComparison.Ordinal);
        var root = JsonDocument.Parse(await File.ReadAllTextAsync(output)).RootElement;
        Assert.Equal("value", root.GetProperty("explained").GetString());
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["gradient", "integrated-gradients", "gradient-x-input", "random"], rows.Select(r => r.GetProperty("method").GetString()).Distinct());
        Assert.DoesNotContain(rows, r => r.GetProperty("metric").GetString() == "pointing-exact");
        double Value(string method, string metric) => rows.Single(r => r.GetProperty("method").GetString() == method && r.GetProperty("metric").GetString() == metric).GetProperty("value").GetDouble();
        Assert.True(Value("integrated-gradients", "deletion-auc") < Value("random", "deletion-auc"));
        Assert.InRange(Value("integrated-gradients", "completeness-gap"), 0, 0.05);
    }

    [Fact]
    public async Task Evaluate_InputFile_UsesItsWindowsWithoutGroundTruth()
    {
        string directory = RepositoryPaths.NewTempDirectory();
        var data = new AnomalyDatasetGenerator(93).Generate(12).Windows;
        string input = Path.Combine(directory, "windows.jsonl");
        await File.WriteAllLinesAsync(input, Enumerable.Range(0, 12).Select(i =>
        {
            var v = data.Window(i).ToArray();
            return JsonSerializer.Serialize(new { id = $"w{i}", values = Enumerable.Range(0, 3).Select(c => v.Skip(c * 50).Take(50).ToArray()).ToArray() });
        }));
        string output = Path.Combine(directory, "evaluation.json");

        var (exit, stdout, error) = await VerbRunner.Run("evaluate", "--model", RepositoryPaths.AnomalyModel, "--input", input, "--methods", "gxi", "--output", output);

        Assert.True(exit == 0, error);
        Assert.Contains($"the first 12 windows of {input}", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("AUPRC", stdout, StringComparison.Ordinal);
        var root = JsonDocument.Parse(await File.ReadAllTextAsync(output)).RootElement;
        Assert.Equal(12, root.GetProperty("windows").GetInt32());
        Assert.Contains("N(0, 0.1^2)", root.GetProperty("settings").GetProperty("infidelityPerturbation").GetString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Held-out windows from elsewhere carry their ground truth: pointing is recomputed here from gradient x input on
    /// the deployed weights, over the flagged windows with a spike; a line without "spike" among lines with it is refused.
    /// </summary>
    [Fact]
    public async Task Evaluate_InputFileWithSpikes_PointingOnItsTruePositives()
    {
        string directory = RepositoryPaths.NewTempDirectory();
        var generated = new AnomalyDatasetGenerator(94).Generate(60);
        var data = generated.Windows;
        string Line(int i, bool withSpike)
        {
            var v = data.Window(i).ToArray();
            var values = Enumerable.Range(0, 3).Select(c => v.Skip(c * 50).Take(50).ToArray()).ToArray();
            var p = generated.Spikes[i];
            object? spike = p.IsAnomaly ? new { channel = p.Channel, step = p.Step } : null;
            return withSpike ? JsonSerializer.Serialize(new { id = $"w{i}", values, spike }) : JsonSerializer.Serialize(new { id = $"w{i}", values });
        }

        string input = Path.Combine(directory, "windows.jsonl");
        await File.WriteAllLinesAsync(input, Enumerable.Range(0, 60).Select(i => Line(i, true)));
        string output = Path.Combine(directory, "evaluation.json");

        var (exit, stdout, error) = await VerbRunner.Run("evaluate", "--model", RepositoryPaths.AnomalyModel, "--input", input, "--methods", "gxi", "--output", output);

        Assert.True(exit == 0, error);
        using var explainer = TSViz.Explain.Explainer.Load(RepositoryPaths.AnomalyModel);
        var scores = explainer.Score(data.Values, 60);
        var product = TSViz.Explain.Attribution.InputAttributions.GradientTimesInput(explainer, data.Values, 60, new TSViz.Explain.Attribution.ExplainOptions());
        var positives = Enumerable.Range(0, 60).Where(i => generated.Spikes[i].IsAnomaly && scores[i] >= explainer.Metadata.DecisionThreshold!.Value).ToList();
        Assert.NotEmpty(positives);
        double exact = positives.Count(i =>
        {
            var a = product[i].Attribution.Select(Math.Abs).ToArray();
            int top = Array.IndexOf(a, a.Max());
            return top == (generated.Spikes[i].Channel * 50) + generated.Spikes[i].Step;
        }) / (double)positives.Count;
        var rows = JsonDocument.Parse(await File.ReadAllTextAsync(output)).RootElement.GetProperty("rows").EnumerateArray().ToList();
        double reported = rows.Single(r => r.GetProperty("method").GetString() == "gradient-x-input" && r.GetProperty("metric").GetString() == "pointing-exact").GetProperty("value").GetDouble();
        Assert.Equal(exact, reported, 6);
        Assert.Contains("AUPRC", stdout, StringComparison.Ordinal);

        string partial = Path.Combine(directory, "partial.jsonl");
        await File.WriteAllLinesAsync(partial, [Line(0, true), Line(1, false)]);
        var (refused, _, message) = await VerbRunner.Run("evaluate", "--model", RepositoryPaths.AnomalyModel, "--input", partial, "--methods", "gxi", "--output", output);
        Assert.Equal(2, refused);
        Assert.Contains("line 2: \"spike\" is missing", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluate_UnknownMethod_ExitsWithTwoNamingItAndTheValidOnes()
    {
        var (exit, _, error) = await VerbRunner.Run("evaluate", "--model", RepositoryPaths.AnomalyModel, "--methods", "ig,lime", "--output", "x.json");

        Assert.Equal(2, exit);
        Assert.Contains("'lime'", error, StringComparison.Ordinal);
        Assert.Contains("gradient-x-input (gxi)", error, StringComparison.Ordinal);
    }
}
