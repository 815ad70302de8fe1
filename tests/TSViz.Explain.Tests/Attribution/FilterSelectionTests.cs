using TSViz.Explain.Attribution;

namespace TSViz.Explain.Tests.Attribution;

public sealed class FilterSelectionTests
{
    private static readonly float[] Influence = [0.5f, 3f, 0f, 2f, 1f];

    [Fact]
    public void TopK_ReturnsMostInfluentialFirst() => Assert.Equal([1, 3, 4], FilterSelection.TopK(Influence, 3));

    [Fact]
    public void AtOrAbovePercentile_UsesLinearInterpolation()
    {
        // Sorted 0, 0.5, 1, 2, 3: the 50th percentile is 1, the 75th is 2, the 90th is 2.6.
        Assert.Equal(1f, FilterSelection.Percentile(Influence, 50));
        Assert.Equal([1, 3, 4], FilterSelection.AtOrAbovePercentile(Influence, 50));
        Assert.Equal([1, 3], FilterSelection.AtOrAbovePercentile(Influence, 75));
        Assert.Equal([1], FilterSelection.AtOrAbovePercentile(Influence, 90));
        Assert.Equal([1, 3, 4, 0, 2], FilterSelection.AtOrAbovePercentile(Influence, 0));
    }

    [Fact]
    public void MinMaxScale_ConstantValues_AreAllZero() => Assert.Equal([0f, 0f], FilterSelection.MinMaxScale([4f, 4f]));
}
