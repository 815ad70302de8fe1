using System.Globalization;
using System.Text.Json;
using TSViz.Explain.Data;
using TSViz.Explain.Evaluation;
using TSViz.Explain.Onnx;
using TSViz.Explain.Runtime;
using TSViz.Explain.Training;
using TSViz.Plugins.Scoring;
using TSViz.Tests.Shared;

namespace TSViz.Plugins.Tests.Scoring;

public sealed class OnnxRuntimeScorerTests
{
    [Fact]
    public void Open_MissingModel_ThrowsModelFileExceptionNamingThePath()
    {
        var error = Assert.Throws<ModelFileException>(() => OnnxRuntimeScorer.Open("missing/anomaly.onnx"));
        Assert.Contains("missing/anomaly.onnx", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("anomaly-cnn.onnx")]
    [InlineData("traffic-cnn.onnx")]
    public void Score_ShippedModel_AgreesWithTorchSharpOnTheSameWeights(string file)
    {
        string path = Path.Combine(RepositoryPaths.Root, "models", file);
        using var scorer = OnnxRuntimeScorer.Open(path);
        TorchRuntime.EnsureInitialized();
        using var network = ConvNetImporter.Import(OnnxModelFile.Load(path));

        int channels = scorer.Metadata.Channels.Count;
        int length = scorer.Metadata.WindowLength;
        var random = new GaussianRandom(99);
        var values = Enumerable.Range(0, 256 * channels * length).Select(_ => (float)random.Normal()).ToArray();
        var ort = new float[256];
        scorer.Score(values, 256, ort);
        var torchScores = Trainer.Predict(network, new WindowSet(values, new float[256], channels, length));

        double maxDifference = ort.Zip(torchScores, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDifference <= 1e-5, $"max |ONNX Runtime - TorchSharp| = {maxDifference}");
        Assert.True(ort.Distinct().Count() > 100, "scores should vary across random windows");
    }

    [Fact]
    public void Score_AnomalyTestSet_MeetsTargetsAndMatchesTheModelCard()
    {
        using var scorer = OnnxRuntimeScorer.Open(RepositoryPaths.AnomalyModel);
        int seed = int.Parse(scorer.Metadata.Extra["tsviz.training_seed"], CultureInfo.InvariantCulture);
        var test = AnomalyDatasetGenerator.Test(seed).Windows;
        var scores = new float[test.Count];
        scorer.Score(test.Values, test.Count, scores);
        var metrics = BinaryClassificationMetrics.Compute(scores, test.Targets, scorer.Metadata.DecisionThreshold!.Value);

        Assert.True(metrics.Accuracy >= 0.98, $"accuracy {metrics.Accuracy}");
        Assert.True(metrics.Recall >= 0.90, $"recall {metrics.Recall}");

        using var card = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(RepositoryPaths.AnomalyModel, ".card.json")));
        var classification = card.RootElement.GetProperty("classification");
        Assert.Equal(metrics.Confusion.TruePositives, classification.GetProperty("confusion").GetProperty("truePositives").GetInt32());
        Assert.Equal(metrics.Confusion.FalsePositives, classification.GetProperty("confusion").GetProperty("falsePositives").GetInt32());
        Assert.Equal(metrics.Accuracy, classification.GetProperty("accuracy").GetDouble(), 10);
    }

    [Fact]
    public void Score_TrafficTestSet_ReproducesTheCardBesideThePaper()
    {
        using var scorer = OnnxRuntimeScorer.Open(RepositoryPaths.TrafficModel);
        using var reader = File.OpenText(RepositoryPaths.TrafficData);
        var data = TrafficDatasetBuilder.Build(TrafficDatasetBuilder.ReadSeries(reader));
        Assert.Equal(data.Mean, double.Parse(scorer.Metadata.Extra["tsviz.series_mean"], CultureInfo.InvariantCulture));
        var predictions = new float[data.Test.Count];
        scorer.Score(data.Test.Values, data.Test.Count, predictions);
        var metrics = RegressionMetrics.Compute(predictions, data.Test.Targets);

        using var card = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(RepositoryPaths.TrafficModel, ".card.json")));
        Assert.Equal(metrics.Mse, card.RootElement.GetProperty("regression").GetProperty("mse").GetDouble(), 9);
        Assert.Equal(metrics.Mae, card.RootElement.GetProperty("regression").GetProperty("mae").GetDouble(), 9);

        // Same order as the paper's test error (MSE 0.001608): within a factor of two.
        Assert.InRange(metrics.Mse, 0, 2 * card.RootElement.GetProperty("paper").GetProperty("mse").GetDouble());
    }

    [Fact]
    public void Score_LiveWindowsInPhysicalUnits_AfterDeclaredPreprocessing_DecidesAsOnTheTestSet()
    {
        // Live windows arrive in sensor units (bar, degC, Nm), spike included; the monitor applies the model's
        // declared preprocessing. Z-scoring is blind to each channel's offset and scale, so decisions must not change.
        using var scorer = OnnxRuntimeScorer.Open(RepositoryPaths.AnomalyModel);
        var test = new AnomalyDatasetGenerator(2024).Generate(2_000).Windows;
        float[] offsets = [5.2f, 81.0f, 12.0f];
        float[] scales = [0.3f, 4.0f, 1.7f];
        var live = (float[])test.Values.Clone();
        for (int i = 0; i < live.Length; i++)
        {
            int channel = (i / test.Length) % test.Channels;
            live[i] = (live[i] * scales[channel]) + offsets[channel];
        }

        WindowPreprocessing.Apply(scorer.Metadata.Preprocessing, live, test.Channels, test.Length);
        var reference = new float[test.Count];
        var fromLive = new float[test.Count];
        scorer.Score(test.Values, test.Count, reference);
        scorer.Score(live, test.Count, fromLive);

        double threshold = scorer.Metadata.DecisionThreshold!.Value;
        int disagreements = Enumerable.Range(0, test.Count).Count(i => (reference[i] >= threshold) != (fromLive[i] >= threshold));
        Assert.True(disagreements <= 2, $"{disagreements} decisions changed on the live path");
        var metrics = BinaryClassificationMetrics.Compute(fromLive, test.Targets, threshold);
        Assert.True(metrics.Recall >= 0.88, $"live-path recall {metrics.Recall}");
    }

    [Fact]
    public void Score_WrongWindowSize_IsRefused()
    {
        using var scorer = OnnxRuntimeScorer.Open(RepositoryPaths.AnomalyModel);
        Assert.Throws<ArgumentException>(() => scorer.Score(new float[149], 1, new float[1]));
    }
}
