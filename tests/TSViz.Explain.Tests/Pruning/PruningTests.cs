using Microsoft.ML.OnnxRuntime;
using TSViz.Explain.Data;
using TSViz.Explain.Onnx;
using TSViz.Explain.Pruning;
using TSViz.Tests.Shared;

namespace TSViz.Explain.Tests.Pruning;

public sealed class PruningTests
{
    [Fact]
    public void Faithfulness_ShippedAnomalyModel_MostInfluentialHurtsMoreThanLeastInEveryLayer()
    {
        var file = OnnxModelFile.Load(RepositoryPaths.AnomalyModel);
        using var explainer = Explainer.FromFile(file);
        var train = AnomalyDatasetGenerator.Training(1).Windows.Slice(0, 3_000);
        var test = AnomalyDatasetGenerator.Test(1).Windows.Slice(0, 3_000);
        var influence = DatasetInfluence.Compute(explainer, train.Values, train.Count);
        var rows = Faithfulness.Run(file, influence, test, PruningCriterion.Influence);

        Assert.Equal(7, rows.Count);
        Assert.Equal("none", rows[0].Which);
        foreach (var layer in new[] { "conv1", "conv2", "conv3" })
        {
            var least = rows.Single(r => r.Layer == layer && r.Which == "least");
            var most = rows.Single(r => r.Layer == layer && r.Which == "most");
            Assert.True(most.After.Loss > least.After.Loss, $"{layer}: most {most.After.Loss} vs least {least.After.Loss}");
            Assert.True(most.PercentChange > least.PercentChange + 1, $"{layer}: {most.PercentChange} % vs {least.PercentChange} %");
            Assert.True(most.MeanInfluence > least.MeanInfluence);
        }
    }

    [Fact]
    public void DatasetInfluence_MinMeanMax_AreOrderedAndDeadFiltersFlagged()
    {
        // Filter 2 of conv1 can never be positive: zero weights and a negative bias.
        string path = Attribution.TinyModels.ReferenceCnn(9, m =>
        {
            m.get_parameter("conv1.weight")!.narrow(0, 2, 1).zero_();
            m.get_parameter("conv1.bias")!.narrow(0, 2, 1).fill_(-1);
        });
        using var explainer = Explainer.Load(path);
        var windows = new AnomalyDatasetGenerator(5).Generate(100).Windows;
        var influence = DatasetInfluence.Compute(explainer, windows.Values, 100);
        foreach (var layer in influence)
        {
            for (int f = 0; f < layer.Mean.Length; f++)
            {
                Assert.InRange(layer.Mean[f], layer.Min[f], layer.Max[f]);
            }
        }

        Assert.True(influence[0].NeverActive[2]);
        Assert.Equal(1, influence[0].NeverActive.Count(d => d));
        var ranked = PruningCandidates.Rank(influence, criterion: PruningCriterion.Influence);
        Assert.Equal(112, ranked.Count);
        Assert.True(ranked.Zip(ranked.Skip(1)).All(p => p.First.ScaledInfluence <= p.Second.ScaledInfluence));
        var byContribution = PruningCandidates.Rank(influence); // the default criterion
        Assert.True(byContribution.Zip(byContribution.Skip(1)).All(p => p.First.ScaledContribution <= p.Second.ScaledContribution));
    }

    [Fact]
    public void RemoveFilters_ShippedModel_IsSmallerAndMatchesTheZeroedModelInOnnxRuntime()
    {
        var file = OnnxModelFile.Load(RepositoryPaths.AnomalyModel);
        using var explainer = Explainer.FromFile(file);
        FilterRef[] filters = [new("conv1", 3), new("conv2", 0), new("conv2", 31), new("conv3", 10), new("conv3", 63)];
        var zeroed = ModelSurgery.ZeroFilters(file, explainer.Layers, filters);
        var removed = ModelSurgery.RemoveFilters(file, explainer.Layers, filters);
        string directory = RepositoryPaths.NewTempDirectory();
        string zeroedPath = Path.Combine(directory, "zeroed.onnx");
        string removedPath = Path.Combine(directory, "removed.onnx");
        OnnxExporter.Save(zeroed.Model, zeroedPath);
        OnnxExporter.Save(removed.Model, removedPath);

        Assert.True(new FileInfo(removedPath).Length < new FileInfo(zeroedPath).Length);
        var weights = removed.FloatInitializers();
        Assert.Equal(15 * 3 * 3, weights["conv1.weight"].Length);
        Assert.Equal(30 * 15 * 3, weights["conv2.weight"].Length);
        Assert.Equal(62 * 30 * 3, weights["conv3.weight"].Length);
        Assert.Equal(62 * 9, weights["fc.weight"].Length);
        Assert.Contains(removed.Model.MetadataProps, p => p.Key == ModelSurgery.PrunedKey && p.Value.Contains("conv2:0,31", StringComparison.Ordinal));

        var windows = new AnomalyDatasetGenerator(6).Generate(128).Windows;
        var fromZeroed = Run(zeroedPath, windows);
        var fromRemoved = Run(removedPath, windows);
        var original = Run(RepositoryPaths.AnomalyModel, windows);
        Assert.True(fromZeroed.Zip(fromRemoved, (a, b) => Math.Abs(a - b)).Max() <= 1e-5);
        Assert.True(fromZeroed.Zip(original, (a, b) => Math.Abs(a - b)).Max() > 1e-4, "zeroing five filters should change some score");
    }

    [Fact]
    public void Surgery_UnknownLayerOrFilter_ListsWhatExists()
    {
        var file = OnnxModelFile.Load(RepositoryPaths.AnomalyModel);
        using var explainer = Explainer.FromFile(file);
        var layerError = Assert.Throws<ArgumentException>(() => ModelSurgery.RemoveFilters(file, explainer.Layers, [new FilterRef("dense9", 0)]));
        Assert.Contains("conv3 (64 filters, 0..63)", layerError.Message, StringComparison.Ordinal);
        var filterError = Assert.Throws<ArgumentOutOfRangeException>(() => ModelSurgery.ZeroFilters(file, explainer.Layers, [new FilterRef("conv1", 16)]));
        Assert.Contains("0..15", filterError.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => FilterRef.Parse("conv1"));
        Assert.Equal(new FilterRef("conv2", 7), FilterRef.Parse("conv2:7"));
    }

    [Fact]
    public void Progressive_ThreeSteps_RemovesLeastInfluentialFirstAndReportsTheCurve()
    {
        var file = OnnxModelFile.Load(RepositoryPaths.TrafficModel);
        using var explainer = Explainer.FromFile(file);
        using var reader = File.OpenText(RepositoryPaths.TrafficData);
        var data = TrafficDatasetBuilder.Build(TrafficDatasetBuilder.ReadSeries(reader));
        var influence = DatasetInfluence.Compute(explainer, data.Train.Values.AsSpan(0, 2_000 * 100), 2_000);
        var expectedOrder = PruningCandidates.Rank(influence).Take(3).Select(c => (c.Layer, c.Filter)).ToList();

        var curve = ProgressivePruning.Run(file, influence, data.Test, steps: 3, fineTuneEpochs: 1,
            train: data.Train.Slice(0, 1_000), validation: data.Validation.Slice(0, 500));

        Assert.Equal(4, curve.Count);
        Assert.Equal([0, 1, 2, 3], curve.Select(s => s.Removed));
        Assert.Equal([112, 111, 110, 109], curve.Select(s => s.RemainingFilters));
        Assert.Equal(expectedOrder, curve.Skip(1).Select(s => (s.Layer!, s.Filter!.Value)).ToList());
        Assert.All(curve, s => Assert.NotNull(s.Metrics.Mse));
        Assert.Equal(0, curve[0].PercentChange);
    }

    private static float[] Run(string path, WindowSet windows)
    {
        using var session = new InferenceSession(path);
        using var input = OrtValue.CreateTensorValueFromMemory(windows.Values, [windows.Count, 3, 50]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["input"], [input], ["score"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
