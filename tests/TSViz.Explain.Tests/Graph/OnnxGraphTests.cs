using Microsoft.ML.OnnxRuntime;
using TSViz.Explain.Data;
using TSViz.Explain.Graph;
using TSViz.Explain.Onnx;
using ModelMetadata = TSViz.Explain.Onnx.ModelMetadata;
using TSViz.Tests.Shared;
using static TorchSharp.torch;

namespace TSViz.Explain.Tests.Graph;

public sealed class OnnxGraphTests
{
    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 24)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Forward_RandomConvModel_MatchesOnnxRuntime(int seed)
    {
        string path = RandomConvModels.Write(seed, RepositoryPaths.NewTempDirectory(), out int channels, out int length);
        AssertParity(path, channels, length, 1e-5);
    }

    [Fact]
    public void Forward_ShapeAndArithmeticOperators_MatchOnnxRuntime()
    {
        string path = RandomConvModels.WriteShapeOperators(RepositoryPaths.NewTempDirectory());
        AssertParity(path, 2, 12, 1e-5);
    }

    [Theory]
    [InlineData("anomaly-cnn.onnx")]
    [InlineData("traffic-cnn.onnx")]
    public void Forward_ShippedModel_MatchesOnnxRuntimeAndFindsItsLayers(string file)
    {
        string path = Path.Combine(RepositoryPaths.Root, "models", file);
        var model = OnnxModelFile.Load(path);
        AssertParity(path, model.Metadata.Channels.Count, 50, 1e-5);

        using var graph = OnnxGraph.Load(path);
        Assert.Equal(["conv1", "conv2", "conv3"], graph.Layers.Select(l => l.Name));
        Assert.Equal([16, 32, 64], graph.Layers.Select(l => l.Filters));
        Assert.Equal([48, 22, 9], graph.Layers.Select(l => l.OutputLength));
        Assert.All(graph.Layers, l => Assert.Equal("LeakyRelu", l.Activation));
        Assert.Equal(112, graph.TotalFilters);
    }

    [Fact]
    public void Load_UnsupportedOperator_IsRefusedNamingOperatorAndNode()
    {
        var builder = new OnnxGraphBuilder("lstm", 1, 10);
        string h = builder.Node("LSTM", "recurrent_block", [builder.Input]);
        builder.Node("Sigmoid", "sigmoid", [h], "score");
        builder.Output("score", 1);
        var metadata = new ModelMetadata("m", "0", ["x"], 10, WindowPreprocessing.None, TSViz.Explain.Models.OutputKind.Probability, 0.5, new Dictionary<string, string>());
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "lstm.onnx");
        OnnxExporter.Save(builder.Build(metadata, "unsupported"), path);

        var error = Assert.Throws<ModelFileException>(() => OnnxGraph.Load(path));
        Assert.Contains("LSTM", error.Message, StringComparison.Ordinal);
        Assert.Contains("'recurrent_block'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TwoDimensionalConv_IsRefusedNotMiscomputed()
    {
        var builder = new OnnxGraphBuilder("conv2d", 1, 10);
        string w = builder.Initializer("w", [2, 1, 3, 3], new float[18]);
        builder.Node("Conv", "image_conv", [builder.Input, w], "score", OnnxGraphBuilder.IntsAttribute("kernel_shape", 3, 3));
        builder.Output("score", 1);
        var metadata = new ModelMetadata("m", "0", ["x"], 10, WindowPreprocessing.None, TSViz.Explain.Models.OutputKind.Value, null, new Dictionary<string, string>());
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "conv2d.onnx");
        OnnxExporter.Save(builder.Build(metadata, "2-D"), path);

        var error = Assert.Throws<ModelFileException>(() => OnnxGraph.Load(path));
        Assert.Contains("'image_conv'", error.Message, StringComparison.Ordinal);
        Assert.Contains("1-D", error.Message, StringComparison.Ordinal);
    }

    private static void AssertParity(string path, int channels, int length, double tolerance)
    {
        using var graph = OnnxGraph.Load(path);
        var random = new GaussianRandom(channels * 31 + length);
        const int batch = 64;
        var values = Enumerable.Range(0, batch * channels * length).Select(_ => (float)random.Normal()).ToArray();

        float[] expected;
        using (var session = new InferenceSession(path))
        using (var input = OrtValue.CreateTensorValueFromMemory(values, [batch, channels, length]))
        using (var runOptions = new RunOptions())
        using (var outputs = session.Run(runOptions, [session.InputNames[0]], [input], [graph.ScoreOutput]))
        {
            expected = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var actual = graph.Forward(tensor(values, [batch, channels, length])).data<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a) / Math.Max(1, Math.Abs(e))).Max();
        Assert.True(worst <= tolerance, $"{Path.GetFileName(path)}: max difference to ONNX Runtime {worst}");
    }
}
