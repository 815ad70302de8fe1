using TSViz.Explain.Attribution;
using TSViz.Explain.Clustering;
using TSViz.Explain.Data;

namespace TSViz.Explain.Tests.Clustering;

public sealed class DtwTests
{
    [Fact]
    public void Distance_HandWorkedExample()
    {
        // |a_i - b_j|: [[0, 2], [1, 1], [2, 0]]; the best path 0 -> 1 -> 0 costs 1.
        Assert.Equal(1.0, Dtw.Distance([0f, 1f, 2f], [0f, 2f]), 10);
        Assert.Equal(0.0, Dtw.Distance([1f, 2f, 2f, 3f], [1f, 2f, 3f]), 10);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Distance_RandomSequences_MatchesBruteForceRecursion(int seed)
    {
        var random = new GaussianRandom(seed);
        for (int trial = 0; trial < 20; trial++)
        {
            var a = Enumerable.Range(0, random.Next(1, 8)).Select(_ => (float)random.Normal()).ToArray();
            var b = Enumerable.Range(0, random.Next(1, 8)).Select(_ => (float)random.Normal()).ToArray();
            Assert.Equal(BruteForce(a, b, a.Length - 1, b.Length - 1), Dtw.Distance(a, b), 9);
            Assert.Equal(Dtw.Distance(a, b), Dtw.Distance(b, a), 9);
        }
    }

    [Fact]
    public void MinMaxScale_ConstantVector_IsZeros()
    {
        var scaled = new float[3];
        FilterSelection.MinMaxScale([2f, 2f, 2f], scaled);
        Assert.Equal([0f, 0f, 0f], scaled);
        FilterSelection.MinMaxScale([1f, 3f, 2f], scaled);
        Assert.Equal([0f, 1f, 0.5f], scaled);
    }

    /// <summary>Eq. 20-21 written as the plain recursion over every path.</summary>
    private static double BruteForce(float[] a, float[] b, int i, int j)
    {
        double cost = Math.Abs(a[i] - b[j]);
        if (i == 0 && j == 0)
        {
            return cost;
        }

        double best = double.PositiveInfinity;
        if (i > 0)
        {
            best = Math.Min(best, BruteForce(a, b, i - 1, j));
        }

        if (j > 0)
        {
            best = Math.Min(best, BruteForce(a, b, i, j - 1));
        }

        if (i > 0 && j > 0)
        {
            best = Math.Min(best, BruteForce(a, b, i - 1, j - 1));
        }

        return cost + best;
    }
}
