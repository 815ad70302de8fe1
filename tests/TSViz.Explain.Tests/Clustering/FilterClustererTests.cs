using TSViz.Explain.Clustering;
using TSViz.Explain.Data;
using TSViz.Explain.Tests.Attribution;
using TSViz.Tests.Shared;

namespace TSViz.Explain.Tests.Clustering;

public sealed class FilterClustererTests
{
    [Fact]
    public void Cluster_LayerWithPlantedDuplicateFilters_PutsThemTogether()
    {
        // conv2 filters 3 and 7 get identical weights and bias, so their activations are identical.
        string path = TinyModels.ReferenceCnn(14, m =>
        {
            var weight = m.get_parameter("conv2.weight")!;
            var bias = m.get_parameter("conv2.bias")!;
            weight.narrow(0, 7, 1).copy_(weight.narrow(0, 3, 1));
            bias.narrow(0, 7, 1).copy_(bias.narrow(0, 3, 1));
        });
        using var explainer = Explainer.Load(path);
        var windows = new AnomalyDatasetGenerator(3).Generate(60).Windows;

        var conv2 = Assert.Single(FilterClusterer.Cluster(explainer, windows.Values, 60, ["conv2"]));

        Assert.Equal(0.0, conv2.Distances[3][7], 10);
        Assert.Equal(conv2.Labels[3], conv2.Labels[7]);
        Assert.True(conv2.Distances[3].Where((_, j) => j != 3 && j != 7).Min() > 0);
        Assert.Equal(32, conv2.Filters.Length);
        Assert.InRange(conv2.ChosenK, 2, 31);
    }

    [Fact]
    public void Cluster_ShippedModel_CoversEveryLayerWithSymmetricZeroDiagonalDistances()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var windows = new AnomalyDatasetGenerator(4).Generate(40).Windows;
        var result = FilterClusterer.Cluster(explainer, windows.Values, 40);
        Assert.Equal(["conv1", "conv2", "conv3"], result.Select(r => r.Layer));
        foreach (var layer in result)
        {
            int n = layer.Filters.Length;
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(0, layer.Distances[i][i]);
                for (int j = 0; j < n; j++)
                {
                    Assert.Equal(layer.Distances[i][j], layer.Distances[j][i], 12);
                }
            }

            Assert.Equal(layer.ChosenK, layer.Labels.Distinct().Count());
            Assert.Equal(layer.ChosenK, layer.Representatives.Length);
        }
    }

    [Fact]
    public void Cluster_UnknownLayer_ListsTheLayers()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel);
        var error = Assert.Throws<ArgumentException>(() => FilterClusterer.Cluster(explainer, new float[150], 1, ["conv7"]));
        Assert.Contains("conv1 (16 filters, 0..15)", error.Message, StringComparison.Ordinal);
    }
}
