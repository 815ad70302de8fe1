using System.Text.Json;
using TSViz.Explain.Data;
using TSViz.Monitor.Tests.Cli;
using TSViz.Plugins.Scoring;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Explaining;

public sealed class ExplainVerbTests
{
    [Fact]
    public async Task Explain_JsonLines_WritesOneLinePerInputInOrderAndRejectsBadLinesWithReasons()
    {
        var data = new AnomalyDatasetGenerator(77).Generate(3).Windows;
        string directory = RepositoryPaths.NewTempDirectory();
        string input = Path.Combine(directory, "windows.jsonl");
        string output = Path.Combine(directory, "explained.jsonl");
        var lines = new List<string>
        {
            WindowJson("first", data.Window(0).ToArray()),
            "{\"id\": \"broken\", \"values\": [[1, 2, 3]",
            WindowJson("second", data.Window(1).ToArray()),
            "{\"id\": \"nan\", \"values\": [[\"x\"], [], []]}",
            WindowJson("third", data.Window(2).ToArray()),
        };
        await File.WriteAllLinesAsync(input, lines);

        var (exit, _, error) = await VerbRunner.Run("explain", "--model", RepositoryPaths.AnomalyModel, "--input", input, "--output", output);

        Assert.Equal(1, exit);
        Assert.Contains("3 windows explained, 2 lines rejected", error, StringComparison.Ordinal);
        var written = (await File.ReadAllLinesAsync(output)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(5, written.Count);
        Assert.Equal("first", written[0].GetProperty("id").GetString());
        Assert.Equal(2, written[1].GetProperty("line").GetInt32());
        Assert.Contains("not valid JSON", written[1].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("second", written[2].GetProperty("id").GetString());
        Assert.Equal("nan", written[3].GetProperty("id").GetString());
        Assert.Contains("channel 0", written[3].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("third", written[4].GetProperty("id").GetString());

        using var scorer = OnnxRuntimeScorer.Open(RepositoryPaths.AnomalyModel);
        var scores = new float[3];
        scorer.Score(data.Values, 3, scores);
        foreach (var (line, index) in new[] { (written[0], 0), (written[2], 1), (written[4], 2) })
        {
            Assert.Equal(scores[index], line.GetProperty("score").GetSingle(), 5);
            Assert.Equal("logit", line.GetProperty("differentiated").GetString());
            var saliency = line.GetProperty("saliency");
            Assert.Equal(3, saliency.GetArrayLength());
            Assert.All(saliency.EnumerateArray(), c => Assert.Equal(50, c.GetArrayLength()));
            Assert.Equal(1f, saliency.EnumerateArray().SelectMany(c => c.EnumerateArray()).Max(v => v.GetSingle()), 5);
            Assert.Equal(3, line.GetProperty("saliencyRaw").GetArrayLength());
            Assert.Equal(3, line.GetProperty("saliencyReceived").GetArrayLength());
            Assert.Equal([16, 32, 64], line.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("influence").GetArrayLength()));
            Assert.Equal(["conv1", "conv2", "conv3"], line.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("name").GetString()));
            Assert.Equal(1f, line.GetProperty("channelContributions").EnumerateObject().Sum(p => p.Value.GetSingle()), 4);
        }
    }

    [Fact]
    public async Task Explain_WithRobustnessAndFilterSaliency_AddsThem()
    {
        var data = new AnomalyDatasetGenerator(78).Generate(2).Windows;
        string directory = RepositoryPaths.NewTempDirectory();
        string input = Path.Combine(directory, "windows.jsonl");
        string output = Path.Combine(directory, "explained.jsonl");
        await File.WriteAllLinesAsync(input, [WindowJson("a", data.Window(0).ToArray()), WindowJson("b", data.Window(1).ToArray())]);

        var (exit, _, error) = await VerbRunner.Run("explain", "--model", RepositoryPaths.AnomalyModel, "--input", input, "--output", output,
            "--robustness", "fgsm", "--eps", "0.05", "--filter-saliency", "2", "--activations", "--percentile", "90");

        Assert.True(exit == 0, error);
        foreach (var line in (await File.ReadAllLinesAsync(output)).Select(l => JsonDocument.Parse(l).RootElement))
        {
            var robustness = line.GetProperty("robustness");
            Assert.Equal("fgsm", robustness.GetProperty("method").GetString());
            Assert.Equal(0.05, robustness.GetProperty("epsilon").GetDouble(), 6);
            Assert.Equal(3, robustness.GetProperty("adversarialWindow").GetArrayLength());
            Assert.Equal(6, line.GetProperty("filterSaliency").GetArrayLength());
            var top = line.GetProperty("layers")[0].GetProperty("ranking")[0].GetInt32();
            Assert.Equal(top, line.GetProperty("filterSaliency")[0].GetProperty("filter").GetInt32());
            Assert.Equal(16, line.GetProperty("layers")[0].GetProperty("activations").GetArrayLength());
            Assert.Equal(48, line.GetProperty("layers")[0].GetProperty("activations")[0].GetArrayLength());
            var conv3 = line.GetProperty("layers")[2];
            var selected = conv3.GetProperty("atOrAbovePercentile").EnumerateArray().Select(e => e.GetInt32()).ToList();
            Assert.InRange(selected.Count, 1, 7); // the top tenth of 64 filters, ties aside
            Assert.Equal(conv3.GetProperty("ranking")[0].GetInt32(), selected[0]);
        }
    }

    [Fact]
    public async Task Explain_Forecaster_DifferentiatesTheValueWithoutPreprocessing()
    {
        string directory = RepositoryPaths.NewTempDirectory();
        string input = Path.Combine(directory, "traffic.jsonl");
        string output = Path.Combine(directory, "explained.jsonl");
        var series = Enumerable.Range(0, 51).Select(i => (float)Math.Sin(i / 6.0)).ToArray();
        var values = new float[100];
        TrafficDatasetBuilder.ToModelInput(series.AsSpan(1, 50), series[0], values);
        await File.WriteAllLinesAsync(input, [JsonSerializer.Serialize(new { id = "t", values = new[] { values[..50], values[50..] } })]);

        var (exit, _, error) = await VerbRunner.Run("explain", "--model", RepositoryPaths.TrafficModel, "--input", input, "--output", output);

        Assert.True(exit == 0, error);
        var line = JsonDocument.Parse((await File.ReadAllLinesAsync(output)).Single()).RootElement;
        Assert.Equal("value", line.GetProperty("differentiated").GetString());
        Assert.False(line.TryGetProperty("decision", out _));
        Assert.False(line.TryGetProperty("saliencyReceived", out _));
        Assert.Equal(line.GetProperty("score").GetSingle(), line.GetProperty("explainedValue").GetSingle());
        Assert.Equal(2, line.GetProperty("saliency").GetArrayLength());
    }

    /// <summary>
    /// The forecaster does not preprocess, so gradient x input is |x| times the gradient run's saliency, cell by cell;
    /// the other methods say which they are, and an unknown one is refused with the list.
    /// </summary>
    [Fact]
    public async Task Explain_SaliencyMethod_GradientTimesInputIsXTimesTheGradient_AndEveryMethodNamesItself()
    {
        string directory = RepositoryPaths.NewTempDirectory();
        string input = Path.Combine(directory, "traffic.jsonl");
        var series = Enumerable.Range(0, 51).Select(i => (float)Math.Sin(i / 6.0)).ToArray();
        var values = new float[100];
        TrafficDatasetBuilder.ToModelInput(series.AsSpan(1, 50), series[0], values);
        await File.WriteAllLinesAsync(input, [JsonSerializer.Serialize(new { id = "t", values = new[] { values[..50], values[50..] } })]);

        async Task<JsonElement> Explain(string method)
        {
            string output = Path.Combine(directory, $"{method}.jsonl");
            var (exit, _, error) = await VerbRunner.Run("explain", "--model", RepositoryPaths.TrafficModel, "--input", input, "--output", output, "--saliency-method", method);
            Assert.True(exit == 0, error);
            var line = JsonDocument.Parse((await File.ReadAllLinesAsync(output)).Single()).RootElement;
            Assert.Equal(method, line.GetProperty("saliencyMethod").GetString());
            return line;
        }

        static float[] Raw(JsonElement line) => [.. line.GetProperty("saliencyRaw").EnumerateArray().SelectMany(c => c.EnumerateArray()).Select(v => v.GetSingle())];

        var gradient = Raw(await Explain("gradient"));
        var product = Raw(await Explain("gradient-x-input"));
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal(Math.Abs(values[i]) * gradient[i], product[i], 1e-5f * (1 + gradient.Max()));
        }

        foreach (string method in new[] { "integrated-gradients", "smoothgrad", "occlusion" })
        {
            var raw = Raw(await Explain(method));
            Assert.Equal(100, raw.Length);
            Assert.True(raw.Max() > 0, method);
        }

        var (refused, _, message) = await VerbRunner.Run("explain", "--model", RepositoryPaths.TrafficModel, "--input", input, "--saliency-method", "lime");
        Assert.NotEqual(0, refused);
        Assert.Contains("integrated-gradients", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_MissingModel_ExitsWithTwoNamingIt()
    {
        var (exit, _, error) = await VerbRunner.Run("explain", "--model", "nowhere/model.onnx", "--input", "/dev/null");
        Assert.Equal(2, exit);
        Assert.Contains("nowhere/model.onnx", error, StringComparison.Ordinal);
    }

    private static string WindowJson(string id, float[] values)
        => JsonSerializer.Serialize(new { id, values = Enumerable.Range(0, 3).Select(c => values.Skip(c * 50).Take(50).ToArray()).ToArray() });
}
