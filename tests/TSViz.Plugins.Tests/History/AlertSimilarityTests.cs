using TSViz.Plugins.History;

namespace TSViz.Plugins.Tests.History;

public sealed class AlertSimilarityTests
{
    private static AlertRecord Alert(string id, float[] signature, int saliency)
        => new() { Id = id, Machine = "m", ModelVersion = "v", Status = "closed", Since = DateTimeOffset.UnixEpoch, PeakWindowId = "w", Signature = signature, SignatureSaliencyLength = saliency };

    [Fact]
    public void Cosine_HandKnownVectors()
    {
        Assert.Equal(1, AlertSimilarity.Cosine([1, 2, 3], [2, 4, 6]), 12);
        Assert.Equal(0, AlertSimilarity.Cosine([1, 0], [0, 1]), 12);
        Assert.Equal(-1, AlertSimilarity.Cosine([1, 1], [-1, -1]), 12);
        Assert.Equal(1 / Math.Sqrt(2), AlertSimilarity.Cosine([1, 0], [1, 1]), 12);
        Assert.Equal(0, AlertSimilarity.Cosine([0, 0], [1, 1])); // no direction: not similar
        Assert.Throws<ArgumentException>(() => AlertSimilarity.Cosine([1, 0], [1, 0, 0]));
    }

    [Fact]
    public void Similarity_MeanOfTheSaliencyAndTheInfluenceParts()
    {
        // Saliency parts equal (cos 1), influence parts orthogonal (cos 0): half similar, whatever the parts' lengths.
        var a = Alert("a", [1, 0, 0, 0, 1, 0], saliency: 4);
        var b = Alert("b", [2, 0, 0, 0, 0, 3], saliency: 4);
        Assert.Equal(0.5, AlertSimilarity.Similarity(a, b), 12);

        // A signature without influence: the saliency part alone.
        Assert.Equal(1, AlertSimilarity.Similarity(Alert("c", [1, 1], 2), Alert("d", [3, 3], 2)), 12);
    }

    [Fact]
    public void Rank_OtherLayoutsLeftOut_MostSimilarFirst_LimitClamped()
    {
        var target = Alert("t", [1, 0, 1, 0], saliency: 2);
        var same = Alert("same", [1, 0, 1, 0], 2);
        var half = Alert("half", [1, 0, 0, 1], 2);
        var otherLength = Alert("long", [1, 0, 1, 0, 0], 2);
        var otherSplit = Alert("split", [1, 0, 1, 0], 3);

        var ranked = AlertSimilarity.Rank(target, [half, otherLength, same, otherSplit], limit: 10);

        Assert.Equal(["same", "half"], ranked.Select(s => s.Alert.Id));
        Assert.Equal([1, 0.5], ranked.Select(s => Math.Round(s.Similarity, 12)));
        Assert.Single(AlertSimilarity.Rank(target, [half, same], limit: 0)); // at least one
    }
}
