using Onnx;
using TSViz.Explain.Models;
using TSViz.Explain.Onnx;
using TSViz.Tests.Shared;

namespace TSViz.Explain.Tests.Onnx;

public sealed class OnnxModelFileTests
{
    [Fact]
    public void Load_MissingFile_SaysWhereAndHowToMakeOne()
    {
        var error = Assert.Throws<ModelFileException>(() => OnnxModelFile.Load("no/such/model.onnx"));
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains("export", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CorruptFile_SaysItIsNotOnnx()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "corrupt.onnx");
        File.WriteAllBytes(path, [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);
        var error = Assert.Throws<ModelFileException>(() => OnnxModelFile.Load(path));
        Assert.Contains("not a valid ONNX model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TruncatedShippedModel_IsRefused()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "truncated.onnx");
        var bytes = File.ReadAllBytes(RepositoryPaths.AnomalyModel);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.Throws<ModelFileException>(() => OnnxModelFile.Load(path));
    }

    [Fact]
    public void Load_ModelWithoutMetadata_NamesEveryMissingKey()
    {
        using var model = new ConvNet1d(ConvNetSpec.AnomalyReference);
        var proto = OnnxExporter.Export(model, OnnxExporterTests.Metadata(ConvNetSpec.AnomalyReference, probability: true));
        proto.MetadataProps.Clear();
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "bare.onnx");
        OnnxExporter.Save(proto, path);

        var error = Assert.Throws<ModelFileException>(() => OnnxModelFile.Load(path));
        foreach (var (key, _) in ModelMetadata.Required)
        {
            Assert.Contains(key, error.Message, StringComparison.Ordinal);
        }

        Assert.Contains("export", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadValues_AreEachNamed()
    {
        var props = new Dictionary<string, string>
        {
            [ModelMetadata.NameKey] = "m",
            [ModelMetadata.VersionKey] = "1",
            [ModelMetadata.ChannelsKey] = "a,a",
            [ModelMetadata.WindowLengthKey] = "fifty",
            [ModelMetadata.PreprocessingKey] = "minmax",
            [ModelMetadata.OutputKindKey] = "probability",
            [ModelMetadata.ThresholdKey] = "1.5",
        };
        var error = Assert.Throws<ModelFileException>(() => ModelMetadata.Parse(props, "m.onnx"));
        Assert.Contains("names a channel twice", error.Message, StringComparison.Ordinal);
        Assert.Contains(ModelMetadata.WindowLengthKey, error.Message, StringComparison.Ordinal);
        Assert.Contains("minmax", error.Message, StringComparison.Ordinal);
        Assert.Contains("(0, 1)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_UnsupportedOperator_IsRefusedWithItsNode()
    {
        using var model = new ConvNet1d(ConvNetSpec.AnomalyReference);
        var proto = OnnxExporter.Export(model, OnnxExporterTests.Metadata(ConvNetSpec.AnomalyReference, probability: true));
        var act = proto.Graph.Node.First(n => n.OpType == "LeakyRelu");
        act.OpType = "Selu";
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "selu.onnx");
        OnnxExporter.Save(proto, path);

        var error = Assert.Throws<ModelFileException>(() => ConvNetImporter.Import(OnnxModelFile.Load(path)));
        Assert.Contains($"'{act.Name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Selu", error.Message, StringComparison.Ordinal);
    }
}
