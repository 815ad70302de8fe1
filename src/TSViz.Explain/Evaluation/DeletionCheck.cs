using TSViz.Explain.Graph;

namespace TSViz.Explain.Evaluation;

/// <summary>
/// One window's deletion check: its reported score, the score with the attribution's top cells set to the baseline,
/// and the mean score over as many cells removed at random.
/// </summary>
/// <param name="Fraction">The share of the window's cells removed (0.05: the top 5 %).</param>
/// <param name="Cells">How many cells that is.</param>
/// <param name="Score">The model's reported score on the window.</param>
/// <param name="DeletionScore">The score with the top cells removed.</param>
/// <param name="RandomScore">The mean score over <paramref name="RandomDraws"/> removals of as many random cells.</param>
/// <param name="RandomDraws">How many random removals were averaged.</param>
public sealed record DeletionCheckResult(double Fraction, int Cells, double Score, double DeletionScore, double RandomScore, int RandomDraws)
{
    /// <summary>How much the deletion lowered the score beyond what a random removal of as many cells does.</summary>
    public double Margin => RandomScore - DeletionScore;
}

/// <summary>
/// The deletion check of one explanation: if the highlighted cells are the evidence the model used, removing them
/// (setting them to the baseline, 0 in the model's input space) moves the reported score far more than removing as
/// many cells at random. All variants of a batch run in one forward pass on the deployed weights.
/// </summary>
public static class DeletionCheck
{
    /// <summary>
    /// The check for <paramref name="count"/> received windows with their attributions (one per window, channel-major,
    /// ranked by magnitude); the random draws are seeded by <paramref name="seed"/> so a result can be reproduced.
    /// </summary>
    public static DeletionCheckResult[] Run(
        Explainer explainer, ReadOnlySpan<float> windows, int count, IReadOnlyList<float[]> attributions, double fraction = 0.05, int randomDraws = 8, int seed = 29, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        ArgumentNullException.ThrowIfNull(attributions);
        ArgumentOutOfRangeException.ThrowIfLessThan(randomDraws, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fraction);
        int size = explainer.Metadata.Channels.Count * explainer.Metadata.WindowLength;
        var modelInput = explainer.ToModelSpace(windows, count);
        int perWindow = 1 + randomDraws;
        var random = new Random(seed);

        // Each window once with its own order and randomDraws times with a random one, all at one fraction; the
        // window's own score once.
        var repeated = new float[count * perWindow * size];
        var orders = new int[count * perWindow][];
        for (int w = 0; w < count; w++)
        {
            for (int d = 0; d < perWindow; d++)
            {
                modelInput.AsSpan(w * size, size).CopyTo(repeated.AsSpan(((w * perWindow) + d) * size, size));
                orders[(w * perWindow) + d] = d == 0 ? CellRemoval.Order(attributions[w]) : CellRemoval.RandomOrder(size, random);
            }
        }

        var scores = explainer.EvaluateModelSpace(modelInput, count, GradientTarget.Output, cancellationToken: cancellationToken);
        var removed = CellRemoval.Curves(explainer, repeated, count * perWindow, orders, [fraction], RemovalMode.Deletion, 0, GradientTarget.Output, cancellationToken);
        int cells = CellRemoval.CellCount(fraction, size);
        var results = new DeletionCheckResult[count];
        for (int w = 0; w < count; w++)
        {
            double randomMean = 0;
            for (int d = 1; d < perWindow; d++)
            {
                randomMean += removed[(w * perWindow) + d][0];
            }

            results[w] = new DeletionCheckResult(fraction, cells, scores[w], removed[w * perWindow][0], randomMean / randomDraws, randomDraws);
        }

        return results;
    }
}
