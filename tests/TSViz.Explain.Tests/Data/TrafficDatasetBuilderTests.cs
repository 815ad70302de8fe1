using TSViz.Explain.Data;
using TSViz.Tests.Shared;

namespace TSViz.Explain.Tests.Data;

public sealed class TrafficDatasetBuilderTests
{
    [Fact]
    public void Build_ShippedSeries_SplitsAsThePaperAndScalesOnTrainingOnly()
    {
        using var reader = File.OpenText(RepositoryPaths.TrafficData);
        var series = TrafficDatasetBuilder.ReadSeries(reader);
        Assert.Equal(19_888, series.Length);

        var data = TrafficDatasetBuilder.Build(series);
        Assert.Equal(2_000, data.Validation.Count);
        Assert.Equal(4_000, data.Test.Count);
        Assert.Equal(TrafficDatasetBuilder.TrainPoints - TrafficDatasetBuilder.WindowLength - 1 - 2_000, data.Train.Count);

        double mean = series.Take(TrafficDatasetBuilder.TrainPoints).Average();
        Assert.Equal(mean, data.Mean, 6);

        // The first test target is point 14,000, standardised with the training scaler.
        Assert.Equal((float)((series[14_000] - data.Mean) / data.Std), data.Test.Targets[0], 5);
        Assert.Equal((float)((series[17_999] - data.Mean) / data.Std), data.Test.Targets[^1], 5);
    }

    [Fact]
    public void ToModelInput_SecondChannel_IsTheFirstDifference()
    {
        float[] values = [1, 3, 2, 5];
        var destination = new float[8];
        TrafficDatasetBuilder.ToModelInput(values, 0.5f, destination);
        Assert.Equal([1, 3, 2, 5, 0.5f, 2, -1, 3], destination);
    }

    [Fact]
    public void ReadSeries_MalformedRow_NamesTheLine()
    {
        using var reader = new StringReader("\"Time\",\"Value\"\n\"t1\",1.5\n\"t2\",oops\n");
        var error = Assert.Throws<InvalidDataException>(() => TrafficDatasetBuilder.ReadSeries(reader));
        Assert.Contains("Line 3", error.Message, StringComparison.Ordinal);
    }
}
