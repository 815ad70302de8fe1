using TSViz.Explain.Attribution;
using TSViz.Explain.Compiled;
using TSViz.Explain.Data;
using TSViz.Explain.Graph;
using TSViz.Explain.Models;
using TSViz.Explain.Onnx;
using TSViz.Explain.Robustness;
using TSViz.Explain.Tests.Graph;
using TSViz.Tests.Shared;
using static TSViz.Explain.Onnx.OnnxGraphBuilder;

namespace TSViz.Explain.Tests.Compiled;

/// <summary>
/// The compiled CPU kernels give what the general TorchSharp path gives, within 1e-5 of each array's scale: on the
/// shipped models and on random models of the family they cover (kernel widths, pads, ReLU, LeakyReLU or no activation,
/// pooling widths, Gemm layouts, with or without a sigmoid, z-scored or raw input). Windows counts that are not a
/// multiple of the block exercise the partial last block. Graphs outside the family keep the general path, with the
/// node named.
/// </summary>
[Collection(nameof(ExplainerTests))]
public sealed class CompiledKernelTests : IDisposable
{
    private const double Tolerance = 1e-5;
    private readonly string directory = Directory.CreateTempSubdirectory("tsviz-compiled-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 16)];

    [Fact]
    public void ShippedModels_AreCompiled()
    {
        foreach (var path in new[] { RepositoryPaths.AnomalyModel, RepositoryPaths.TrafficModel })
        {
            using var explainer = Explainer.Load(path);
            Assert.Equal(ExplainerKernels.Auto, explainer.Kernels);
            Assert.Equal(string.Empty, explainer.KernelsReason);
        }
    }

    [Fact]
    public void AnomalyModel_EveryMethod_EqualsTheTorchSharpPath()
    {
        var windows = new AnomalyDatasetGenerator(41).Generate(37).Windows.Values;
        AssertPathsAgree(RepositoryPaths.AnomalyModel, windows, 37, flipSearch: true);
    }

    [Fact]
    public void TrafficModel_EveryMethod_EqualsTheTorchSharpPath()
    {
        using var probe = Explainer.Load(RepositoryPaths.TrafficModel);
        int size = probe.Metadata.Channels.Count * probe.Metadata.WindowLength;
        var random = new GaussianRandom(43);
        var windows = Enumerable.Range(0, 21 * size).Select(i => (float)(Math.Sin(i * 0.07) + random.Normal(0, 0.3))).ToArray();
        AssertPathsAgree(RepositoryPaths.TrafficModel, windows, 21, flipSearch: false);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomFamilyModel_EveryMethod_EqualsTheTorchSharpPath(int seed)
    {
        string path = WriteFamilyModel(seed, directory, out int channels, out int length, out bool sigmoid);
        int count = 1 + (seed * 7 % 40);
        var random = new GaussianRandom(seed + 1000);
        var windows = Enumerable.Range(0, count * channels * length).Select(_ => (float)random.Normal(0.5, 1.5)).ToArray();
        AssertPathsAgree(path, windows, count, flipSearch: sigmoid);
    }

    [Fact]
    public void GraphsOutsideTheFamily_KeepTheTorchSharpPath_NamingWhy()
    {
        // Random models with strides, dilations, groups, BatchNormalization, other activations or average pooling.
        int outside = 0;
        for (int seed = 1; seed <= 12; seed++)
        {
            using var explainer = Explainer.Load(RandomConvModels.Write(seed, directory, out _, out _));
            if (explainer.Kernels == ExplainerKernels.TorchSharp)
            {
                outside++;
                Assert.NotEqual(string.Empty, explainer.KernelsReason);
            }
        }

        Assert.True(outside >= 8, $"only {outside} of 12 general random models fell outside the family");
        using var shapes = Explainer.Load(RandomConvModels.WriteShapeOperators(directory));
        Assert.Equal(ExplainerKernels.TorchSharp, shapes.Kernels);
        Assert.Contains("'dropout' (Dropout)", shapes.KernelsReason, StringComparison.Ordinal);
    }

    [Fact]
    public void PortableVectorKernel_GivesTheSameBitsAsAvx512()
    {
        // A plant's CPU may lack AVX-512 (or be an ARM); the portable kernel must give exactly what the wide one gives.
        var windows = new AnomalyDatasetGenerator(47).Generate(40).Windows.Values;
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel, parallelism: 1);
        var options = new ExplainOptions { IncludeContribution = true };
        var wide = explainer.Explain(windows, 40, options);
        var wideFgsm = explainer.Fgsm(windows, 40, 0.1);
        try
        {
            PackedGemm.UseVector512 = false;
            var portable = explainer.Explain(windows, 40, options);
            var portableFgsm = explainer.Fgsm(windows, 40, 0.1);
            for (int w = 0; w < 40; w++)
            {
                Assert.Equal(wide[w].SaliencyRaw, portable[w].SaliencyRaw);
                Assert.Equal(wide[w].Layers.SelectMany(l => l.Influence), portable[w].Layers.SelectMany(l => l.Influence));
                Assert.Equal(wideFgsm[w].ScoreAfter, portableFgsm[w].ScoreAfter);
            }
        }
        finally
        {
            PackedGemm.UseVector512 = true;
        }
    }

    [Fact]
    public void TorchSharpKernels_CanBeAskedFor()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel, kernels: ExplainerKernels.TorchSharp);
        Assert.Equal(ExplainerKernels.TorchSharp, explainer.Kernels);
    }

    private static void AssertPathsAgree(string path, float[] windows, int count, bool flipSearch)
    {
        using var compiled = Explainer.Load(path, parallelism: 2);
        using var general = Explainer.Load(path, parallelism: 2, kernels: ExplainerKernels.TorchSharp);
        Assert.Equal(ExplainerKernels.Auto, compiled.Kernels);

        Close(general.Score(windows, count), compiled.Score(windows, count), "score");

        var options = new ExplainOptions { IncludeActivations = true, IncludeContribution = true };
        var expected = general.Explain(windows, count, options);
        var actual = compiled.Explain(windows, count, options);
        for (int w = 0; w < count; w++)
        {
            Assert.Equal(expected[w].Differentiated, actual[w].Differentiated);
            Assert.Equal(expected[w].Decision, actual[w].Decision);
            Close([expected[w].Score, expected[w].ExplainedValue], [actual[w].Score, actual[w].ExplainedValue], $"window {w} score");
            Close(expected[w].SaliencyRaw, actual[w].SaliencyRaw, $"window {w} saliency");
            Close(expected[w].SaliencyReceived ?? [], actual[w].SaliencyReceived ?? [], $"window {w} received saliency");
            Close(expected[w].ChannelContributions, actual[w].ChannelContributions, $"window {w} channel shares");
            for (int l = 0; l < expected[w].Layers.Count; l++)
            {
                var (e, a) = (expected[w].Layers[l], actual[w].Layers[l]);
                Assert.Equal(e.Name, a.Name);
                Close(e.Influence, a.Influence, $"window {w} {e.Name} influence");
                Close(e.Contribution!, a.Contribution!, $"window {w} {e.Name} contribution");
                Close(e.Activations!, a.Activations!, $"window {w} {e.Name} activations");
            }
        }

        var expectedMaps = general.FilterSaliency(windows, count);
        var actualMaps = compiled.FilterSaliency(windows, count);
        for (int w = 0; w < count; w++)
        {
            Assert.Equal(expectedMaps[w].Length, actualMaps[w].Length);
            for (int m = 0; m < expectedMaps[w].Length; m++)
            {
                Assert.Equal((expectedMaps[w][m].Layer, expectedMaps[w][m].Filter), (actualMaps[w][m].Layer, actualMaps[w][m].Filter));
                Close(expectedMaps[w][m].Saliency, actualMaps[w][m].Saliency, $"window {w} saliency of {expectedMaps[w][m].Layer} #{expectedMaps[w][m].Filter}");
            }
        }

        var lastLayer = compiled.Layers[^1];
        var some = new Dictionary<string, int[]> { [lastLayer.Name] = [lastLayer.Filters - 1, 0] };
        var expectedSome = general.FilterSaliency(windows, count, some);
        var actualSome = compiled.FilterSaliency(windows, count, some);
        Assert.Equal(expectedSome.SelectMany(w => w.Select(m => m.Filter)), actualSome.SelectMany(w => w.Select(m => m.Filter)));

        var gxi = new ExplainOptions { TimesInput = true, Target = GradientTarget.Output };
        var expectedGxi = general.Explain(windows, count, gxi);
        var actualGxi = compiled.Explain(windows, count, gxi);
        for (int w = 0; w < count; w++)
        {
            Close(expectedGxi[w].SaliencyRaw, actualGxi[w].SaliencyRaw, $"window {w} gradient x input of the output");
        }

        // The input attributions built on gradients and evaluations (issue 18) run on the same kernels.
        var attributionOptions = new ExplainOptions();
        Attributions(e => InputAttributions.Gradient(e, windows, count, attributionOptions));
        Attributions(e => InputAttributions.GradientTimesInput(e, windows, count, attributionOptions));
        Attributions(e => InputAttributions.IntegratedGradients(e, windows, count, new IntegratedGradientsOptions { Steps = 8 }, attributionOptions));
        Attributions(e => InputAttributions.SmoothGrad(e, windows, count, new SmoothGradOptions { Samples = 4 }, attributionOptions));
        Attributions(e => InputAttributions.Occlusion(e, windows, count, new OcclusionOptions { Width = 3 }, attributionOptions));
        void Attributions(Func<Explainer, InputAttribution[]> method)
        {
            var e = method(general);
            var a = method(compiled);
            for (int w = 0; w < count; w++)
            {
                Assert.Equal(e[w].Method, a[w].Method);
                Close(e[w].Attribution, a[w].Attribution, $"window {w} {e[w].Method}");
            }
        }

        var modelSpace = general.ToModelSpace(windows, count);
        Close([.. general.EvaluateModelSpace(modelSpace, count).Select(v => (float)v)], [.. compiled.EvaluateModelSpace(modelSpace, count).Select(v => (float)v)], "explained quantity");

        AssertAttacksAgree(general.Fgsm(windows, count, 0.1), compiled.Fgsm(windows, count, 0.1));

        // The fused live pass (one backward for saliency, influence and the attack) against the separate passes.
        var liveOptions = new ExplainOptions { TimesInput = true, IncludeReceivedSaliency = false };
        var fused = new LiveExplanationPass(compiled, liveOptions, 0.1);
        var separate = new LiveExplanationPass(general, liveOptions, 0.1);
        Assert.True(fused.Fused);
        Assert.False(separate.Fused);
        var expectedLive = separate.Explain(windows, count);
        var actualLive = fused.Explain(windows, count);
        AssertAttacksAgree([.. expectedLive.Select(l => l.Fgsm)], [.. actualLive.Select(l => l.Fgsm)]);
        var scoresOnly = new LiveExplanationPass(compiled, liveOptions, 0.1, includeWindows: false).Explain(windows, count);
        Assert.All(scoresOnly, l => Assert.Empty(l.Fgsm.AdversarialWindow));
        Assert.Equal(actualLive.Select(l => l.Fgsm.ScoreAfter), scoresOnly.Select(l => l.Fgsm.ScoreAfter));
        for (int w = 0; w < count; w++)
        {
            Close(expectedLive[w].Explanation.SaliencyRaw, actualLive[w].Explanation.SaliencyRaw, $"window {w} live saliency");
            Assert.Equal(expectedLive[w].Explanation.SaliencyMethod, actualLive[w].Explanation.SaliencyMethod);
            for (int l = 0; l < expectedLive[w].Explanation.Layers.Count; l++)
            {
                Close(expectedLive[w].Explanation.Layers[l].Influence, actualLive[w].Explanation.Layers[l].Influence, $"window {w} live influence");
            }
        }

        var iterative = new IterativeFgsmOptions { Epsilon = 0.2, Alpha = 0.03, Steps = 6 };
        AssertAttacksAgree(general.IterativeFgsm(windows, count, iterative), compiled.IterativeFgsm(windows, count, iterative));
        // eps_max 0.3 is not a power of two: each window's midpoints round on their own, as in libtorch's bisection.
        foreach (double epsilonMax in flipSearch ? [1.0, 0.3] : Array.Empty<double>())
        {
            var searchOptions = new FlipSearchOptions { EpsilonMax = epsilonMax };
            var e = general.SmallestFlippingEpsilon(windows, count, searchOptions);
            var a = compiled.SmallestFlippingEpsilon(windows, count, searchOptions);
            for (int w = 0; w < count; w++)
            {
                Assert.Equal(e[w].Decision, a[w].Decision);
                Assert.Equal(e[w].SmallestFlippingEpsilon, a[w].SmallestFlippingEpsilon);
                Assert.Equal(e[w].NotFlippedUpTo, a[w].NotFlippedUpTo);
                Close([e[w].ScoreBefore, e[w].ScoreAtEpsilon], [a[w].ScoreBefore, a[w].ScoreAtEpsilon], $"window {w} flip search scores");
            }
        }
    }

    private static void AssertAttacksAgree(RobustnessResult[] expected, RobustnessResult[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int w = 0; w < expected.Length; w++)
        {
            Assert.Equal(expected[w].Flipped, actual[w].Flipped);
            Close([expected[w].ScoreBefore, expected[w].ScoreAfter, expected[w].MaxPerturbation], [actual[w].ScoreBefore, actual[w].ScoreAfter, actual[w].MaxPerturbation], $"window {w} attack scores");
            Close(expected[w].Window, actual[w].Window, $"window {w} attacked window");
            Close(expected[w].AdversarialWindow, actual[w].AdversarialWindow, $"window {w} adversarial window");
        }
    }

    /// <summary>Equal within 1e-5 of the larger of 1 and the expected array's largest magnitude.</summary>
    private static void Close(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1, expected.Length == 0 ? 0 : expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            double difference = Math.Abs(expected[i] - actual[i]);
            Assert.True(difference <= Tolerance * scale, $"{what}[{i}]: TorchSharp {expected[i]:R}, compiled {actual[i]:R} (difference {difference:G3}, scale {scale:G3})");
        }
    }

    /// <summary>
    /// A random model of the compiled family: 1-3 blocks of Conv1d (kernel 1-5, pads 0-2 each side), ReLU, LeakyReLU
    /// or nothing, optional max-pooling of width 2-3; Flatten; a one-output Gemm in either weight layout, with alpha and
    /// beta; a Sigmoid or not; z-scored or raw input.
    /// </summary>
    internal static string WriteFamilyModel(int seed, string directory, out int channels, out int length, out bool sigmoid)
    {
        var random = new GaussianRandom(seed);
        channels = random.Next(1, 5);
        length = random.Next(20, 64);
        var builder = new OnnxGraphBuilder($"family-{seed}", channels, length);
        string current = builder.Input;
        int inChannels = channels, currentLength = length;
        int blocks = random.Next(1, 4);
        for (int l = 1; l <= blocks; l++)
        {
            int filters = random.Next(2, 19);
            int kernel = random.Next(1, 6);
            int padBegin = random.Next(0, 3), padEnd = random.Next(0, 3);
            if (currentLength + padBegin + padEnd - kernel + 1 < 2)
            {
                break;
            }

            string weight = builder.Initializer($"c{l}.w", [filters, inChannels, kernel], RandomConvModels.Normal(random, filters * inChannels * kernel, 0.5));
            string bias = builder.Initializer($"c{l}.b", [filters], RandomConvModels.Normal(random, filters, 0.1));
            current = builder.Node("Conv", $"conv{l}", [current, weight, bias], null,
                IntsAttribute("kernel_shape", kernel), IntsAttribute("strides", 1), IntsAttribute("pads", padBegin, padEnd), IntsAttribute("dilations", 1), IntAttribute("group", 1));
            currentLength = currentLength + padBegin + padEnd - kernel + 1;
            double activation = random.NextDouble();
            if (activation < 0.4)
            {
                current = builder.Node("LeakyRelu", $"act{l}", [current], null, FloatAttribute("alpha", (float)(0.05 + (0.4 * random.NextDouble()))));
            }
            else if (activation < 0.8)
            {
                current = builder.Node("Relu", $"act{l}", [current]);
            }

            if (currentLength >= 4 && random.NextDouble() < 0.6)
            {
                int pool = random.Next(2, 4);
                current = builder.Node("MaxPool", $"pool{l}", [current], null, IntsAttribute("kernel_shape", pool), IntsAttribute("strides", pool), IntsAttribute("pads", 0, 0));
                currentLength /= pool;
            }

            inChannels = filters;
        }

        int features = inChannels * currentLength;
        current = builder.Node("Flatten", "flatten", [current], null, IntAttribute("axis", 1));
        bool transB = random.NextDouble() < 0.5;
        string dense = builder.Initializer("fc.w", transB ? [1, features] : [features, 1], RandomConvModels.Normal(random, features, 0.3));
        string denseBias = builder.Initializer("fc.b", [1], RandomConvModels.Normal(random, 1, 0.1));
        var gemmAttributes = new List<global::Onnx.AttributeProto> { IntAttribute("transB", transB ? 1 : 0) };
        if (random.NextDouble() < 0.5)
        {
            gemmAttributes.Add(FloatAttribute("alpha", 0.8f));
            gemmAttributes.Add(FloatAttribute("beta", 1.5f));
        }

        sigmoid = random.NextDouble() < 0.6;
        if (sigmoid)
        {
            builder.Node("Gemm", "fc", [current, dense, denseBias], "logit", [.. gemmAttributes]);
            builder.Node("Sigmoid", "sigmoid", ["logit"], "score");
        }
        else
        {
            builder.Node("Gemm", "fc", [current, dense, denseBias], "score", [.. gemmAttributes]);
        }

        builder.Output("score", 1);
        var kind = sigmoid ? OutputKind.Probability : OutputKind.Value;
        var preprocessing = random.NextDouble() < 0.5 ? WindowPreprocessing.ZScorePerChannel : WindowPreprocessing.None;
        var metadata = new ModelMetadata(
            $"family-{seed}", "0", Enumerable.Range(0, channels).Select(c => $"c{c}").ToArray(), length,
            preprocessing, kind, sigmoid ? 0.5 : null, new Dictionary<string, string>());
        string path = Path.Combine(directory, $"family-{seed}.onnx");
        OnnxExporter.Save(builder.Build(metadata, "random model of the compiled family"), path);
        return path;
    }
}
