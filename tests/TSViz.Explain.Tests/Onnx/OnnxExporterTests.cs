using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using TSViz.Explain.Data;
using TSViz.Explain.Models;
using TSViz.Explain.Onnx;
using TSViz.Explain.Runtime;
using TSViz.Explain.Training;
using TSViz.Tests.Shared;
using ModelMetadata = TSViz.Explain.Onnx.ModelMetadata;

namespace TSViz.Explain.Tests.Onnx;

public sealed class OnnxExporterTests
{
    /// <summary>Varied channels, lengths, kernels, pooling, slopes and outputs.</summary>
    private static readonly ConvNetSpec[] VariedSpecs =
    [
        ConvNetSpec.AnomalyReference,
        ConvNetSpec.TrafficReference,
        new(1, 64, [new(4, 5, 3), new(6, 2, 0), new(3, 3, 0)], 0.1, OutputKind.Probability),
        new(5, 40, [new(8, 7, 0), new(5, 4, 2), new(7, 3, 0)], 0.01, OutputKind.Value),
        new(4, 33, [new(3, 2, 4), new(9, 1, 0)], 0.5, OutputKind.Probability),
        new(2, 80, [new(6, 9, 2), new(6, 5, 2), new(6, 3, 2), new(2, 3, 0)], 0.2, OutputKind.Value),
    ];

    public static TheoryData<int> SpecIndexes => [.. Enumerable.Range(0, VariedSpecs.Length)];

    [Theory]
    [MemberData(nameof(SpecIndexes))]
    public void Export_RandomModel_OnnxRuntimeAgreesWithTorchSharp(int specIndex)
    {
        var spec = VariedSpecs[specIndex];
        int channels = spec.InputChannels;
        int length = spec.WindowLength;
        bool probability = spec.Output == OutputKind.Probability;
        TorchRuntime.EnsureInitialized();
        torch.random.manual_seed(channels * 100 + length);
        using var model = new ConvNet1d(spec);
        model.eval();
        var metadata = Metadata(spec, probability);
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "model.onnx");
        OnnxExporter.Save(OnnxExporter.Export(model, metadata), path);

        var random = new GaussianRandom(5);
        var values = Enumerable.Range(0, 64 * channels * length).Select(_ => (float)random.Normal()).ToArray();
        var windows = new WindowSet(values, new float[64], channels, length);
        var expected = Trainer.Predict(model, windows);

        using var session = new InferenceSession(path);
        using var input = OrtValue.CreateTensorValueFromMemory(values, [64, channels, length]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [OnnxExporter.InputName], [input], session.OutputNames);
        var actual = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal(OnnxExporter.ScoreOutput, session.OutputNames[0]);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"window {i}: TorchSharp {expected[i]}, ONNX Runtime {actual[i]}");
        }

        // The file declares what the monitor needs, and reads back to the same weights.
        var file = OnnxModelFile.Load(path);
        Assert.Equal(metadata.Channels, file.Metadata.Channels);
        Assert.Equal(spec.Blocks, ConvNetImporter.ReadSpec(file.Model.Graph, file.Metadata, path).Blocks);
    }

    [Fact]
    public void Export_MetadataOfAnotherShape_IsRefused()
    {
        using var model = new ConvNet1d(ConvNetSpec.AnomalyReference);
        var wrong = Metadata(ConvNetSpec.TrafficReference, probability: true);
        Assert.Throws<ArgumentException>(() => OnnxExporter.Export(model, wrong));
    }

    internal static ModelMetadata Metadata(ConvNetSpec spec, bool probability) => new(
        "test-model",
        "0.0.1",
        Enumerable.Range(0, spec.InputChannels).Select(i => $"ch{i}").ToArray(),
        spec.WindowLength,
        WindowPreprocessing.None,
        probability ? OutputKind.Probability : OutputKind.Value,
        probability ? 0.5 : null,
        new Dictionary<string, string>());
}
