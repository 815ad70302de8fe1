using TSViz.Explain.Evaluation;
using TSViz.Explain.Tests.Attribution;

namespace TSViz.Explain.Tests.Evaluation;

/// <summary>
/// Removing an attribution's top cells, on a linear model whose every removal is known by hand: y = sum_t v_t (w x_t + b),
/// so setting x_t to 0 lowers y by w v_t x_t.
/// </summary>
public sealed class DeletionCheckTests
{
    private static readonly float[] V = [0.5f, -1f, 2f, 0.25f, 1f, -0.5f, 1.5f, 0.75f, -2f, 1f, 0.5f, 0.25f, 1f, -1f, 0.5f, 2f, 1f, 0.5f, -0.25f, 1f];
    private const float W = 3f, B = 0.1f;

    private static float[] Window() => [.. Enumerable.Range(0, V.Length).Select(t => (float)Math.Sin(t + 1) * 2)];

    private static double Y(float[] x) => Enumerable.Range(0, x.Length).Sum(t => V[t] * ((W * x[t]) + B));

    [Fact]
    public void Curves_DeletionAndInsertion_GiveTheHandComputedValues()
    {
        using var explainer = Explainer.Load(TinyModels.Linear(W, B, V));
        var x = Window();
        var attribution = x.Select((value, t) => value * W * V[t]).ToArray();
        var order = CellRemoval.Order(attribution);
        double[] fractions = [0, 0.1, 0.25, 1];

        var deletion = CellRemoval.Curves(explainer, explainer.ToModelSpace(x, 1), 1, [order], fractions, RemovalMode.Deletion)[0];
        var insertion = CellRemoval.Curves(explainer, explainer.ToModelSpace(x, 1), 1, [order], fractions, RemovalMode.Insertion)[0];

        for (int f = 0; f < fractions.Length; f++)
        {
            int k = CellRemoval.CellCount(fractions[f], V.Length);
            var removed = (float[])x.Clone();
            var inserted = new float[x.Length];
            foreach (int t in order.Take(k))
            {
                removed[t] = 0;
                inserted[t] = x[t];
            }

            Assert.Equal(Y(removed), deletion[f], 3);
            Assert.Equal(Y(inserted), insertion[f], 3);
        }

        // The order is by magnitude, largest first.
        Assert.Equal(attribution.Max(Math.Abs), Math.Abs(attribution[order[0]]));
        Assert.Equal(attribution.Min(Math.Abs), Math.Abs(attribution[order[^1]]));
    }

    [Fact]
    public void Run_ExactAttribution_TheDeletionRemovesTheLargestTermsAndRandomRemovalsAverage()
    {
        using var explainer = Explainer.Load(TinyModels.Linear(W, B, V));
        var x = Window();
        var attribution = x.Select((value, t) => value * W * V[t]).ToArray();

        var check = DeletionCheck.Run(explainer, x, 1, [attribution], fraction: 0.1, randomDraws: 4, seed: 5)[0];

        Assert.Equal(2, check.Cells); // 10 % of 20
        var top = CellRemoval.Order(attribution).Take(2).ToArray();
        Assert.Equal(Y(x), check.Score, 3);
        Assert.Equal(Y(x) - top.Sum(t => attribution[t]), check.DeletionScore, 3);
        var random = new Random(5);
        double mean = 0;
        for (int d = 0; d < 4; d++)
        {
            var order = CellRemoval.RandomOrder(V.Length, random);
            mean += Y(x) - order.Take(2).Sum(t => attribution[t]);
        }

        Assert.Equal(mean / 4, check.RandomScore, 3);
        Assert.Equal(check.RandomScore - check.DeletionScore, check.Margin, 9);
    }

    [Fact]
    public void NormalizedArea_Trapezoids_OverTheRange()
    {
        Assert.Equal(1.625, CellRemoval.NormalizedArea([0, 0.5, 1], [1, 2, 1.5]), 9);
        Assert.Equal(2, CellRemoval.NormalizedArea([0.1, 0.3], [2, 2]), 9);
        Assert.Throws<ArgumentException>(() => CellRemoval.NormalizedArea([0], [1]));
    }
}
