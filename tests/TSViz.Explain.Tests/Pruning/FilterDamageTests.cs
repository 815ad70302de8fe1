using TSViz.Explain.Data;
using TSViz.Explain.Onnx;
using TSViz.Explain.Pruning;
using TSViz.Explain.Tests.Attribution;

namespace TSViz.Explain.Tests.Pruning;

public sealed class FilterDamageTests
{
    [Fact]
    public void Spearman_NoTies_MatchesOneMinusSixSumOfSquaredRankDifferences()
    {
        // Ranks differ by [0, -1, 1, 0]: 1 - 6 * 2 / (4 * 15) = 0.8.
        Assert.Equal(0.8, RankCorrelation.Spearman([1, 2, 3, 4], [10, 30, 20, 40]), 12);
        Assert.Equal(1, RankCorrelation.Spearman([1, 2, 3], [0.1, 5, 7]), 12);
        Assert.Equal(-1, RankCorrelation.Spearman([1, 2, 3], [3, 2, 1]), 12);
    }

    [Fact]
    public void Spearman_Ties_UseAverageRanks()
    {
        // y's ranks: [1, 2, 3.5, 5, 3.5]; against x's 1..5 the rank deviations give 8 / sqrt(10 * 9.5).
        Assert.Equal([1, 2, 3.5, 5, 3.5], RankCorrelation.AverageRanks([5, 6, 7, 8, 7]));
        Assert.Equal(8 / Math.Sqrt(95), RankCorrelation.Spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 12);
        // Both tied: x ranks [1.5, 1.5, 3, 4], y ranks [1, 2.5, 2.5, 4], both with mean 2.5; deviations [-1, -1, 0.5, 1.5]
        // and [-1.5, 0, 0, 1.5]: covariance 3.75, sums of squares 4.5 and 4.5.
        Assert.Equal(3.75 / 4.5, RankCorrelation.Spearman([2, 2, 5, 9], [0, 1, 1, 3]), 12);
        Assert.True(double.IsNaN(RankCorrelation.Spearman([1, 1, 1], [1, 2, 3])));
    }

    [Fact]
    public void DatasetInfluence_ContributionAndActivation_AreTheMeansOverWindows()
    {
        using var explainer = Explainer.Load(TinyModels.Smooth(3));
        const int count = 40;
        var windows = TinyModels.RandomWindows(4, count, 2, 16);
        var dataset = DatasetInfluence.Compute(explainer, windows, count);
        var each = explainer.Explain(windows, count, new TSViz.Explain.Attribution.ExplainOptions { IncludeContribution = true, IncludeActivations = true, TopSteps = 0 });
        for (int l = 0; l < dataset.Count; l++)
        {
            for (int f = 0; f < dataset[l].Mean.Length; f++)
            {
                double mean = each.Average(e => (double)e.Layers[l].Contribution![f]);
                Assert.Equal(mean, dataset[l].MeanContribution[f], 5);
                Assert.InRange(dataset[l].MeanContribution[f], dataset[l].MinContribution[f], dataset[l].MaxContribution[f]);
                int length = explainer.Layers[l].OutputLength;
                double size = each.Average(e => e.Layers[l].Activations!.Skip(f * length).Take(length).Average(a => (double)Math.Abs(a)));
                Assert.Equal(size, dataset[l].MeanActivation[f], 5);
            }
        }
    }

    [Fact]
    public void Measure_SmoothModel_RowForEveryFilter_SpearmanRecomputedFromRows_CriteriaPickTheirExtremes()
    {
        var file = OnnxModelFile.Load(TinyModels.Smooth(5));
        using var explainer = Explainer.FromFile(file);
        const int count = 64;
        var windows = TinyModels.RandomWindows(6, count, 2, 16);
        var influence = DatasetInfluence.Compute(explainer, windows, count);
        var set = new WindowSet(windows, explainer.Score(windows, count).Select(s => s >= 0.5f ? 1f : 0f).ToArray(), 2, 16);

        var report = FilterDamage.Measure(file, influence, set);

        Assert.Equal(7, report.Rows.Count);
        Assert.Equal(["conv1", "conv2"], report.Layers.Select(l => l.Layer));
        foreach (var layer in report.Layers)
        {
            var rows = report.Rows.Where(r => r.Layer == layer.Layer).ToList();
            Assert.Equal(layer.Filters, rows.Count);
            Assert.Equal(RankCorrelation.Spearman(rows.Select(r => (double)r.Influence).ToArray(), rows.Select(r => r.DamagePercent).ToArray()), layer.SpearmanInfluence, 12);
            Assert.Equal(RankCorrelation.Spearman(rows.Select(r => (double)r.Contribution).ToArray(), rows.Select(r => r.DamagePercent).ToArray()), layer.SpearmanContribution, 12);
            Assert.InRange(layer.SpearmanContribution, -1, 1);
            var byContribution = rows.OrderBy(r => r.Contribution).ToList();
            Assert.Equal(byContribution[0].Filter, layer.ByContribution.Least);
            Assert.Equal(byContribution[^1].Filter, layer.ByContribution.Most);
            Assert.Equal(rows.MaxBy(r => r.Influence)!.DamagePercent, layer.ByInfluence.MostPercentChange);
        }

        // Damage is what Faithfulness measures for the same filter, under either criterion.
        foreach (var criterion in new[] { PruningCriterion.Influence, PruningCriterion.Contribution })
        {
            var table = Faithfulness.Run(file, influence, set, criterion);
            var most = table.Single(r => r.Layer == "conv2" && r.Which == "most");
            var layer = report.Layers[1];
            var extremes = criterion == PruningCriterion.Influence ? layer.ByInfluence : layer.ByContribution;
            Assert.Equal(extremes.Most, most.Filter);
            Assert.Equal(extremes.MostPercentChange, most.PercentChange, 9);
            Assert.Equal(influence[1].MeanContribution[most.Filter!.Value], most.MeanContribution);
        }
    }

    [Fact]
    public void Rank_ByContribution_OrdersByScaledContribution()
    {
        var layer = new LayerDatasetInfluence("conv1", [3f, 1f, 2f], [0, 0, 0], [5, 5, 5], [false, false, false], 10)
        {
            MeanContribution = [0.5f, 4f, 1f],
            MinContribution = [0, 0, 0],
            MaxContribution = [9, 9, 9],
        };
        Assert.Equal([1, 2, 0], PruningCandidates.Rank([layer], criterion: PruningCriterion.Influence).Select(c => c.Filter));
        var ranked = PruningCandidates.Rank([layer], criterion: PruningCriterion.Contribution);
        Assert.Equal([0, 2, 1], ranked.Select(c => c.Filter));
        Assert.Equal(0.125f, ranked[0].ScaledContribution, 6);
        Assert.Equal(1f, ranked[0].ScaledInfluence, 6);
    }

    [Theory]
    [InlineData("influence", PruningCriterion.Influence)]
    [InlineData("Contribution", PruningCriterion.Contribution)]
    public void Parse_Names_AreTheCriteria(string text, PruningCriterion expected)
    {
        Assert.Equal(expected, PruningCriteria.Parse(text));
        Assert.Equal(text.ToLowerInvariant(), expected.Name());
        Assert.Contains("influence, contribution", Assert.Throws<ArgumentException>(() => PruningCriteria.Parse("gradient")).Message, StringComparison.Ordinal);
    }
}
