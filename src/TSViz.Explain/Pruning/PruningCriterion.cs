namespace TSViz.Explain.Pruning;

/// <summary>What ranks a layer's filters for pruning and for the faithfulness test.</summary>
public enum PruningCriterion
{
    /// <summary>
    /// Filter influence, sum_t |dy/da_j(t)| (Eq. 15-16) averaged over the data set (Eq. 28): the paper's criterion.
    /// A gradient only: it can rank a large, always-active filter low.
    /// </summary>
    Influence,

    /// <summary>
    /// Filter contribution, |sum_t a_j(t) dy/da_j(t)| averaged over the data set: the first-order (Taylor) estimate of
    /// how much y changes when the filter is zeroed. On the shipped models it predicts the measured damage of zeroing a
    /// filter better than the influence in every layer (Spearman, see docs/pruning.md); the default.
    /// </summary>
    Contribution,
}

/// <summary>Names, parsing and the default of <see cref="PruningCriterion"/>.</summary>
public static class PruningCriteria
{
    /// <summary>The criterion used when none is chosen: the one that predicts measured damage better.</summary>
    public const PruningCriterion Default = PruningCriterion.Contribution;

    /// <summary>The names <see cref="TryParse"/> accepts, as written in options and configuration.</summary>
    public static IReadOnlyList<string> Names { get; } = ["influence", "contribution"];

    /// <summary>"influence" or "contribution".</summary>
    public static string Name(this PruningCriterion criterion) => criterion switch
    {
        PruningCriterion.Influence => "influence",
        PruningCriterion.Contribution => "contribution",
        _ => throw new ArgumentOutOfRangeException(nameof(criterion), criterion, "Unknown pruning criterion."),
    };

    /// <summary>Reads "influence" or "contribution" (any case).</summary>
    public static bool TryParse(string? text, out PruningCriterion criterion)
    {
        switch (text?.Trim().ToUpperInvariant())
        {
            case "INFLUENCE":
                criterion = PruningCriterion.Influence;
                return true;
            case "CONTRIBUTION":
                criterion = PruningCriterion.Contribution;
                return true;
            default:
                criterion = Default;
                return false;
        }
    }

    /// <summary>Reads "influence" or "contribution" (any case).</summary>
    /// <exception cref="ArgumentException">Neither name.</exception>
    public static PruningCriterion Parse(string? text)
        => TryParse(text, out var criterion) ? criterion
            : throw new ArgumentException($"'{text}' is not a pruning criterion; use one of {string.Join(", ", Names)}.", nameof(text));
}
