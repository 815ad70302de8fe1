using TSViz.Explain.Data;
using TSViz.Explain.Evaluation;

namespace TSViz.Explain.Tests.Evaluation;

/// <summary>Pointing and average precision on rankings known by hand.</summary>
public sealed class SpikeGroundTruthTests
{
    [Fact]
    public void AveragePrecision_KnownRanking_IsTheMeanPrecisionAtEachHit()
    {
        // |A| ranks the cells 0 (0.9), 3 (0.8), 2 (0.5), 1 (0.1).
        float[] attribution = [0.9f, 0.1f, 0.5f, -0.8f];

        // Relevant 3 and 1 sit at ranks 2 and 4: (1/2 + 2/4) / 2.
        Assert.Equal(0.5, SpikeGroundTruth.AveragePrecision(attribution, [3, 1]), 10);
        // One relevant cell at rank 3: 1/3.
        Assert.Equal(1.0 / 3, SpikeGroundTruth.AveragePrecision(attribution, [2]), 10);
        Assert.Equal(1.0, SpikeGroundTruth.AveragePrecision(attribution, [0]), 10);
    }

    [Fact]
    public void Pointing_TopCellAtOrBesideTheSpike_IsExactOrWithinOneStep()
    {
        // Two channels of 4 steps; the top cell is channel 1, step 2 (index 6).
        float[] attribution = [0.1f, 0.2f, 0.1f, 0f, 0f, 0.3f, -0.9f, 0.2f];

        Assert.Equal(new PointingHit(true, true), SpikeGroundTruth.Pointing(attribution, new PlantedSpike(1, 2), 4));
        Assert.Equal(new PointingHit(false, true), SpikeGroundTruth.Pointing(attribution, new PlantedSpike(1, 3), 4));
        Assert.Equal(new PointingHit(false, false), SpikeGroundTruth.Pointing(attribution, new PlantedSpike(1, 0), 4));
        Assert.Equal(new PointingHit(false, false), SpikeGroundTruth.Pointing(attribution, new PlantedSpike(0, 2), 4));
    }
}
