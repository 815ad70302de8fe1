using TSViz.Explain.Data;

namespace TSViz.Explain.Tests.Data;

public sealed class WindowPreprocessingTests
{
    [Fact]
    public void ZScoreInPlace_HandValues_UsesPopulationStd()
    {
        // channel 0: 1, 2, 3 -> mean 2, population sd sqrt(2/3); channel 1 is flat.
        float[] window = [1, 2, 3, 5, 5, 5];
        WindowPreprocessing.ZScoreInPlace(window, 2, 3);
        float z = (float)(1 / Math.Sqrt(2.0 / 3));
        Assert.Equal(-z, window[0], 5);
        Assert.Equal(0, window[1], 5);
        Assert.Equal(z, window[2], 5);
        Assert.All(window[3..], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Apply_UnknownPreprocessing_NamesTheKnownOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => WindowPreprocessing.Apply("minmax", new float[6], 2, 3));
        Assert.Contains("minmax", error.Message, StringComparison.Ordinal);
        Assert.Contains(WindowPreprocessing.ZScorePerChannel, error.Message, StringComparison.Ordinal);
    }
}
