using TSViz.Explain.Clustering;

namespace TSViz.Explain.Tests.Clustering;

public sealed class AgglomerativeClusteringTests
{
    private static double[,] LineDistances(params double[] points)
    {
        var d = new double[points.Length, points.Length];
        for (int i = 0; i < points.Length; i++)
        {
            for (int j = 0; j < points.Length; j++)
            {
                d[i, j] = Math.Abs(points[i] - points[j]);
            }
        }

        return d;
    }

    [Fact]
    public void CompleteLinkage_PointsOnALine_MergesByTheFarthestMembers()
    {
        var merges = AgglomerativeClustering.CompleteLinkage(LineDistances(0, 1, 5, 6, 20));

        // {0,1} at 1; {5,6} at 1; then the two pairs at max(|0-6|) = 6 (single linkage would say 4);
        // then 20 joins at max(|0-20|) = 20.
        Assert.Equal(
            [new Merge(0, 1, 1, 2), new Merge(2, 3, 1, 2), new Merge(5, 6, 6, 4), new Merge(4, 7, 20, 5)],
            merges);
    }

    [Fact]
    public void Cut_Dendrogram_GivesLabelsForAnyK()
    {
        var merges = AgglomerativeClustering.CompleteLinkage(LineDistances(0, 1, 5, 6, 20));
        Assert.Equal([0, 0, 1, 1, 2], AgglomerativeClustering.Cut(merges, 5, 3));
        Assert.Equal([0, 0, 0, 0, 1], AgglomerativeClustering.Cut(merges, 5, 2));
        Assert.Equal([0, 1, 2, 3, 4], AgglomerativeClustering.Cut(merges, 5, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => AgglomerativeClustering.Cut(merges, 5, 6));
    }

    [Fact]
    public void Silhouette_HandWorkedExample()
    {
        // Points 0, 1 | 5, 6: a = 1 for all; b = 5.5, 4.5, 4.5, 5.5; s = 4.5/5.5, 3.5/4.5, 3.5/4.5, 4.5/5.5.
        double expected = ((2 * 4.5 / 5.5) + (2 * 3.5 / 4.5)) / 4;
        Assert.Equal(expected, Silhouette.Score(LineDistances(0, 1, 5, 6), [0, 0, 1, 1]), 10);
    }

    [Fact]
    public void Silhouette_SingletonCluster_CountsZero()
    {
        // Item 2 alone scores 0; items 0 and 1: a = 1, b = 9 and 8.
        double expected = ((8.0 / 9) + (7.0 / 8) + 0) / 3;
        Assert.Equal(expected, Silhouette.Score(LineDistances(0, 1, 9), [0, 0, 1]), 10);
    }

    [Fact]
    public void ClusterLayer_TwoObviousGroups_ChoosesTwoAndTheMostInfluentialRepresentatives()
    {
        var result = FilterClusterer.ClusterLayer("conv", LineDistances(0, 0.1, 0.2, 10, 10.1, 10.3), [1f, 5f, 2f, 0.5f, 0.1f, 3f]);
        Assert.Equal(2, result.ChosenK);
        Assert.Equal([0, 0, 0, 1, 1, 1], result.Labels);
        Assert.Equal([1, 5], result.Representatives);
        Assert.Equal(4, result.SilhouetteByK.Length); // k = 2..5
        Assert.Equal(result.SilhouetteByK.Max(), result.SilhouetteByK[0]);
        Assert.Equal(5, result.Merges.Count);
    }
}
