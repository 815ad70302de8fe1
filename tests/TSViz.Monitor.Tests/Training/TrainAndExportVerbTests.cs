using System.Text.Json;
using TSViz.Explain.Onnx;
using TSViz.Monitor.Cli;
using TSViz.Monitor.Tests.Cli;
using TSViz.Plugins.Scoring;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Training;

public sealed class TrainAndExportVerbTests
{
    [Fact]
    public async Task TrainThenExport_OneEpoch_WritesAModelTheMonitorCanLoadAndItsCard()
    {
        string directory = RepositoryPaths.NewTempDirectory();
        string checkpoint = Path.Combine(directory, "anomaly.ckpt");
        string model = Path.Combine(directory, "anomaly.onnx");

        var (trainExit, trainOut, trainErr) = await Run("train", "--workload", "anomaly", "--seed", "3", "--epochs", "1", "--checkpoint", checkpoint);
        Assert.True(trainExit == 0, trainErr);
        Assert.Contains("epoch   1", trainOut, StringComparison.Ordinal);
        Assert.True(File.Exists(checkpoint));

        var (exportExit, exportOut, exportErr) = await Run(
            "export", "--workload", "anomaly", "--seed", "3", "--checkpoint", checkpoint, "--output", model, "--model-version", "0.9.0", "--threshold", "0.4");
        Assert.True(exportExit == 0, exportErr);
        Assert.Contains("accuracy", exportOut, StringComparison.Ordinal);

        using var scorer = OnnxRuntimeScorer.Open(model);
        Assert.Equal("0.9.0", scorer.Metadata.Version);
        Assert.Equal(0.4, scorer.Metadata.DecisionThreshold);
        Assert.Equal(["pressure", "temperature", "torque"], scorer.Metadata.Channels);
        Assert.Equal("3", scorer.Metadata.Extra["tsviz.training_seed"]);

        using var card = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(model, ".card.json")));
        Assert.Equal(10_000, card.RootElement.GetProperty("classification").GetProperty("confusion").EnumerateObject()
            .Where(p => p.Name != "total").Sum(p => p.Value.GetInt32()));
        Assert.Equal(1, card.RootElement.GetProperty("training").GetProperty("epochsRun").GetInt32());
        Assert.True(File.Exists(Path.ChangeExtension(model, ".card.md")));
    }

    [Fact]
    public async Task Export_MissingCheckpoint_ExitsWithTwoAndSaysHowToMakeIt()
    {
        string directory = RepositoryPaths.NewTempDirectory();
        var (exit, _, error) = await Run("export", "--workload", "anomaly", "--checkpoint", Path.Combine(directory, "none.ckpt"), "--output", Path.Combine(directory, "m.onnx"));
        Assert.Equal(VerbErrors.BadInput, exit);
        Assert.Contains("none.ckpt", error, StringComparison.Ordinal);
        Assert.Contains("train --workload anomaly", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(directory, "m.onnx")));
    }

    [Fact]
    public async Task Train_UnknownWorkload_IsAParseError()
    {
        var (exit, _, error) = await Run("train", "--workload", "turbine");
        Assert.NotEqual(0, exit);
        Assert.Contains("turbine", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_TrafficWithMissingData_ExitsWithTwoNamingTheFile()
    {
        var (exit, _, error) = await Run("train", "--workload", "traffic", "--data", "nowhere/traffic.csv", "--checkpoint", Path.Combine(RepositoryPaths.NewTempDirectory(), "t.ckpt"));
        Assert.Equal(VerbErrors.BadInput, exit);
        Assert.Contains("nowhere/traffic.csv", error, StringComparison.Ordinal);
    }

    private static Task<(int Exit, string Output, string Error)> Run(params string[] args) => VerbRunner.Run(args);
}
