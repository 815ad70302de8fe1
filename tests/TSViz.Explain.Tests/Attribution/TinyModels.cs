using TorchSharp;
using TSViz.Explain.Data;
using TSViz.Explain.Models;
using TSViz.Explain.Onnx;
using TSViz.Tests.Shared;
using static TSViz.Explain.Onnx.OnnxGraphBuilder;

namespace TSViz.Explain.Tests.Attribution;

/// <summary>Small models with hand-known gradients, and reference CNNs with planted weights.</summary>
internal static class TinyModels
{
    /// <summary>
    /// y = sum_t v_t (w x_t + b): one channel, one 1x1 conv filter (no activation), flatten, dense. Hence
    /// dy/dx_t = w v_t, dy/da(t) = v_t, and d(sum_t a(t))/dx_t = w.
    /// </summary>
    public static string Linear(float w, float b, float[] v)
    {
        ArgumentNullException.ThrowIfNull(v);
        var builder = new OnnxGraphBuilder("linear", 1, v.Length);
        string conv = builder.Node("Conv", "conv1",
            [builder.Input, builder.Initializer("w", [1, 1, 1], [w]), builder.Initializer("b", [1], [b])], null, IntsAttribute("kernel_shape", 1));
        string flat = builder.Node("Flatten", "flatten", [conv]);
        builder.Node("Gemm", "fc", [flat, builder.Initializer("v", [1, v.Length], v), builder.Initializer("c", [1], [0f])], "score", IntAttribute("transB", 1));
        builder.Output("score", 1);
        var metadata = new ModelMetadata("linear", "0", ["x"], v.Length, WindowPreprocessing.None, OutputKind.Value, null, new Dictionary<string, string>());
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "linear.onnx");
        OnnxExporter.Save(builder.Build(metadata, "hand-checked"), path);
        return path;
    }

    /// <summary>
    /// A smooth conv model (Tanh, Elu, average pooling, sigmoid output) whose gradients central differences can
    /// check in float32.
    /// </summary>
    public static string Smooth(int seed)
    {
        var random = new GaussianRandom(seed);
        var builder = new OnnxGraphBuilder("smooth", 2, 16);
        string x = builder.Node("Conv", "conv1",
            [builder.Input, builder.Initializer("w1", [3, 2, 3], Graph.RandomConvModels.Normal(random, 18, 0.6)), builder.Initializer("b1", [3], Graph.RandomConvModels.Normal(random, 3, 0.1))],
            null, IntsAttribute("kernel_shape", 3), IntsAttribute("pads", 1, 0));
        x = builder.Node("Tanh", "tanh1", [x]);
        x = builder.Node("AveragePool", "pool1", [x], null, IntsAttribute("kernel_shape", 2), IntsAttribute("strides", 2));
        x = builder.Node("Conv", "conv2",
            [x, builder.Initializer("w2", [4, 3, 2], Graph.RandomConvModels.Normal(random, 24, 0.6)), builder.Initializer("b2", [4], Graph.RandomConvModels.Normal(random, 4, 0.1))],
            null, IntsAttribute("kernel_shape", 2), IntsAttribute("dilations", 2));
        x = builder.Node("Elu", "elu2", [x]);
        x = builder.Node("Flatten", "flatten", [x]);
        builder.Node("Gemm", "fc", [x, builder.Initializer("v", [1, 20], Graph.RandomConvModels.Normal(random, 20, 0.5)), builder.Initializer("c", [1], [0.2f])], "logit", IntAttribute("transB", 1));
        builder.Node("Sigmoid", "sigmoid", ["logit"], "score");
        builder.Output("score", 1);
        var metadata = new ModelMetadata("smooth", "0", ["a", "b"], 16, WindowPreprocessing.ZScorePerChannel, OutputKind.Probability, 0.5, new Dictionary<string, string>());
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "smooth.onnx");
        OnnxExporter.Save(builder.Build(metadata, "smooth"), path);
        return path;
    }

    /// <summary>
    /// One channel of 8 steps: conv1 (2 filters, kernel 2: [1, 1] and [2, 1]), max-pooling 2/2, conv2 (1 filter,
    /// kernel 2, all weights 1), flatten, dense. No activations, so which points produced an activation follows by hand.
    /// </summary>
    public static string Pooled()
    {
        var builder = new OnnxGraphBuilder("pooled", 1, 8);
        string x = builder.Node("Conv", "conv1",
            [builder.Input, builder.Initializer("w1", [2, 1, 2], [1, 1, 2, 1]), builder.Initializer("b1", [2], [0f, 0f])], null, IntsAttribute("kernel_shape", 2));
        x = builder.Node("MaxPool", "pool1", [x], null, IntsAttribute("kernel_shape", 2), IntsAttribute("strides", 2));
        x = builder.Node("Conv", "conv2",
            [x, builder.Initializer("w2", [1, 2, 2], [1, 1, 1, 1]), builder.Initializer("b2", [1], [0f])], null, IntsAttribute("kernel_shape", 2));
        x = builder.Node("Flatten", "flatten", [x]);
        builder.Node("Gemm", "fc", [x, builder.Initializer("v", [1, 2], [1f, 1f]), builder.Initializer("c", [1], [0f])], "score", IntAttribute("transB", 1));
        builder.Output("score", 1);
        var metadata = new ModelMetadata("pooled", "0", ["x"], 8, WindowPreprocessing.None, OutputKind.Value, null, new Dictionary<string, string>());
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "pooled.onnx");
        OnnxExporter.Save(builder.Build(metadata, "hand-checked"), path);
        return path;
    }

    /// <summary>The reference anomaly CNN with random weights, after <paramref name="edit"/> changed them.</summary>
    public static string ReferenceCnn(int seed, Action<ConvNet1d> edit)
    {
        ArgumentNullException.ThrowIfNull(edit);
        torch.random.manual_seed(seed);
        using var model = new ConvNet1d(ConvNetSpec.AnomalyReference);
        using (torch.no_grad())
        {
            edit(model);
        }

        var metadata = new ModelMetadata("edited", "0", AnomalyDatasetGenerator.ChannelNames, 50, WindowPreprocessing.ZScorePerChannel,
            OutputKind.Probability, 0.5, new Dictionary<string, string>());
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "edited.onnx");
        OnnxExporter.Save(OnnxExporter.Export(model, metadata), path);
        return path;
    }

    public static float[] RandomWindows(int seed, int count, int channels, int length)
    {
        var random = new GaussianRandom(seed);
        return Enumerable.Range(0, count * channels * length).Select(_ => (float)random.Normal(0, 1)).ToArray();
    }
}
