using TSViz.Explain.Data;
using TSViz.Explain.Models;
using TSViz.Explain.Onnx;
using static TSViz.Explain.Onnx.OnnxGraphBuilder;

namespace TSViz.Explain.Tests.Graph;

/// <summary>Random conv models written by the project's graph builder, for parity and gradient tests.</summary>
internal static class RandomConvModels
{
    /// <summary>
    /// A conv network drawn from <paramref name="seed"/>: 1-3 conv layers with random kernels, strides, asymmetric
    /// pads, dilations and groups; a random activation, optional inference BatchNormalization, optional Max or
    /// Average pooling with pads; then Flatten or GlobalAveragePool, Gemm and a Sigmoid, Softmax or nothing.
    /// </summary>
    public static string Write(int seed, string directory, out int channels, out int length)
    {
        var random = new GaussianRandom(seed);
        channels = random.Next(1, 5);
        length = random.Next(24, 72);
        string[] activations = ["Relu", "LeakyRelu", "Elu", "Tanh", "Sigmoid"];
        var builder = new OnnxGraphBuilder($"random-{seed}", channels, length);
        string current = builder.Input;
        int inChannels = channels;
        int currentLength = length;
        int layers = random.Next(1, 4);
        for (int l = 1; l <= layers; l++)
        {
            int group = inChannels % 2 == 0 && random.NextDouble() < 0.3 ? 2 : 1;
            int filters = group * random.Next(2, 7);
            int kernel = random.Next(1, 6);
            int stride = random.Next(1, 3);
            int dilation = random.Next(1, 3);
            int padBegin = random.Next(0, 3);
            int padEnd = random.Next(0, 3);
            int span = ((kernel - 1) * dilation) + 1;
            if (currentLength + padBegin + padEnd < span + 2)
            {
                break;
            }

            string weight = builder.Initializer($"c{l}.w", [filters, inChannels / group, kernel], Normal(random, filters * (inChannels / group) * kernel, 0.5));
            string bias = builder.Initializer($"c{l}.b", [filters], Normal(random, filters, 0.1));
            current = builder.Node("Conv", $"conv{l}", [current, weight, bias], null,
                IntsAttribute("kernel_shape", kernel), IntsAttribute("strides", stride), IntsAttribute("pads", padBegin, padEnd),
                IntsAttribute("dilations", dilation), IntAttribute("group", group));
            currentLength = ((currentLength + padBegin + padEnd - span) / stride) + 1;

            if (random.NextDouble() < 0.4)
            {
                var scale = Normal(random, filters, 0.2).Select(v => 1 + v).ToArray();
                var variance = Normal(random, filters, 0.3).Select(v => 0.5f + Math.Abs(v)).ToArray();
                current = builder.Node("BatchNormalization", $"bn{l}",
                [
                    current,
                    builder.Initializer($"bn{l}.scale", [filters], scale),
                    builder.Initializer($"bn{l}.bias", [filters], Normal(random, filters, 0.1)),
                    builder.Initializer($"bn{l}.mean", [filters], Normal(random, filters, 0.1)),
                    builder.Initializer($"bn{l}.var", [filters], variance),
                ], null, FloatAttribute("epsilon", 1e-3f));
            }

            string activation = activations[random.Next(0, activations.Length)];
            current = activation == "LeakyRelu" || activation == "Elu"
                ? builder.Node(activation, $"act{l}", [current], null, FloatAttribute("alpha", 0.2f))
                : builder.Node(activation, $"act{l}", [current]);

            if (currentLength >= 6 && random.NextDouble() < 0.6)
            {
                int poolKernel = random.Next(2, 4);
                int poolPad = random.Next(0, 2);
                bool max = random.NextDouble() < 0.6;
                current = max
                    ? builder.Node("MaxPool", $"pool{l}", [current], null, IntsAttribute("kernel_shape", poolKernel), IntsAttribute("strides", poolKernel), IntsAttribute("pads", poolPad, 0))
                    : builder.Node("AveragePool", $"pool{l}", [current], null, IntsAttribute("kernel_shape", poolKernel), IntsAttribute("strides", 2), IntsAttribute("pads", poolPad, poolPad), IntAttribute("count_include_pad", 1));
                currentLength = max
                    ? ((currentLength + poolPad - poolKernel) / poolKernel) + 1
                    : ((currentLength + (2 * poolPad) - poolKernel) / 2) + 1;
            }

            inChannels = filters;
        }

        int features;
        if (random.NextDouble() < 0.5)
        {
            current = builder.Node("GlobalAveragePool", "gap", [current]);
            features = inChannels;
        }
        else
        {
            features = inChannels * currentLength;
        }

        current = builder.Node("Flatten", "flatten", [current], null, IntAttribute("axis", 1));
        double head = random.NextDouble();
        int outputs = head < 0.33 ? 3 : 1;
        string dense = builder.Initializer("fc.w", [outputs, features], Normal(random, outputs * features, 0.3));
        string denseBias = builder.Initializer("fc.b", [outputs], Normal(random, outputs, 0.1));
        var kind = OutputKind.Value;
        if (head < 0.33)
        {
            builder.Node("Gemm", "fc", [current, dense, denseBias], "logit", IntAttribute("transB", 1));
            builder.Node("Softmax", "softmax", ["logit"], "score", IntAttribute("axis", 1));
            kind = OutputKind.Probability;
        }
        else if (head < 0.66)
        {
            builder.Node("Gemm", "fc", [current, dense, denseBias], "logit", IntAttribute("transB", 1));
            builder.Node("Sigmoid", "sigmoid", ["logit"], "score");
            kind = OutputKind.Probability;
        }
        else
        {
            builder.Node("Gemm", "fc", [current, dense, denseBias], "score", IntAttribute("transB", 1));
        }

        builder.Output("score", outputs);
        var metadata = new ModelMetadata(
            $"random-{seed}", "0", Enumerable.Range(0, channels).Select(c => $"c{c}").ToArray(), length,
            WindowPreprocessing.None, kind, kind == OutputKind.Probability ? 0.5 : null, new Dictionary<string, string>());
        string path = Path.Combine(directory, $"random-{seed}.onnx");
        OnnxExporter.Save(builder.Build(metadata, "random test model"), path);
        return path;
    }

    /// <summary>A model that runs every shape and arithmetic operator the explainer supports around one conv.</summary>
    public static string WriteShapeOperators(string directory)
    {
        var random = new GaussianRandom(77);
        var builder = new OnnxGraphBuilder("shape-ops", 2, 12);
        string conv = builder.Node("Conv", "conv1",
            [builder.Input, builder.Initializer("w", [4, 2, 3], Normal(random, 24, 0.5)), builder.Initializer("b", [4], Normal(random, 4, 0.1))],
            null, IntsAttribute("kernel_shape", 3), IntsAttribute("pads", 1, 1));
        string act = builder.Node("Relu", "relu1", [conv]);
        string dropped = builder.Node("Dropout", "dropout", [act]);
        string same = builder.Node("Identity", "identity", [dropped]);
        string transposed = builder.Node("Transpose", "transpose", [same], null, IntsAttribute("perm", 0, 2, 1)); // N x 12 x 4
        string projected = builder.Node("MatMul", "matmul", [transposed, builder.Initializer("m", [4, 3], Normal(random, 12, 0.5))]); // N x 12 x 3
        string shifted = builder.Node("Add", "add", [projected, builder.Initializer("shift", [3], Normal(random, 3, 0.2))]);
        string lowered = builder.Node("Sub", "sub", [shifted, builder.Node("Constant", "const", [], null,
            new global::Onnx.AttributeProto { Name = "value", Type = global::Onnx.AttributeProto.Types.AttributeType.Tensor, T = OnnxTensors.FloatTensor("c", [1], [0.25f]) })]);
        string scaled = builder.Node("Mul", "mul", [lowered, builder.Initializer("scale", [1], [1.5f])]);
        string divided = builder.Node("Div", "div", [scaled, builder.Initializer("divisor", [1], [2f])]);
        string unsqueezed = builder.Node("Unsqueeze", "unsqueeze", [divided, builder.Int64Initializer("axes1", 1)]); // N x 1 x 12 x 3
        string squeezed = builder.Node("Squeeze", "squeeze", [unsqueezed, builder.Int64Initializer("axes2", 1)]); // N x 12 x 3
        string joined = builder.Node("Concat", "concat", [squeezed, transposed], null, IntAttribute("axis", 2)); // N x 12 x 7
        string flat = builder.Node("Reshape", "reshape", [joined, builder.Int64Initializer("shape", 0, -1)]); // N x 84
        string elu = builder.Node("Elu", "elu", [flat]);
        builder.Node("Gemm", "fc", [elu, builder.Initializer("fc.w", [84, 2], Normal(random, 168, 0.2)), builder.Initializer("fc.b", [2], [0.1f, -0.1f])],
            "logit", FloatAttribute("alpha", 0.7f), FloatAttribute("beta", 1.3f));
        builder.Node("Softmax", "softmax", ["logit"], "score");
        builder.Output("score", 2);
        var metadata = new ModelMetadata("shape-ops", "0", ["a", "b"], 12, WindowPreprocessing.None, OutputKind.Probability, 0.5, new Dictionary<string, string>());
        string path = Path.Combine(directory, "shape-ops.onnx");
        OnnxExporter.Save(builder.Build(metadata, "every supported shape operator"), path);
        return path;
    }

    public static float[] Normal(GaussianRandom random, int count, double sd)
        => Enumerable.Range(0, count).Select(_ => (float)random.Normal(0, sd)).ToArray();
}
