namespace TSViz.Explain.Counterfactuals;

/// <summary>
/// How <see cref="SparseCounterfactual"/> searches. The defaults are the live monitor's: at most 5 % of a window's
/// cells change, each within its channel's plausible range in that window, and the search aims a margin below the
/// level so that the deployed model's own rescoring (ONNX Runtime, float rounding of another engine) also lands below it.
/// </summary>
public sealed record CounterfactualOptions
{
    /// <summary>
    /// The score the changed window must fall below (for an alert: its close level). Null means the model's decision
    /// threshold.
    /// </summary>
    public double? Below { get; init; }

    /// <summary>The search stops once the score is at least this far below <see cref="Below"/> (score units).</summary>
    public double Margin { get; init; } = 0.01;

    /// <summary>The most cells (channel x step) that may change, as a fraction of the window's cells; at least one cell.</summary>
    public double MaxCellFraction { get; init; } = 0.05;

    /// <summary>
    /// A changed value stays within the channel's median in the window plus or minus this many robust standard
    /// deviations (1.4826 MAD), and within the channel's observed minimum and maximum: the counterfactual proposes
    /// values the machine showed, not values it never produces.
    /// </summary>
    public double PlausibleMads { get; init; } = 3;

    /// <summary>Projected sign-gradient steps on the chosen cells after each cell is added (the step halves every 4).</summary>
    public int StepsPerCell { get; init; } = 12;

    /// <summary>The counterfactual method's option rules; the first broken one as an <see cref="ArgumentException"/>.</summary>
    internal void Validate()
    {
        if (Below is { } below && !double.IsFinite(below))
        {
            throw new ArgumentException($"Below must be a finite score, got {below}.", nameof(Below));
        }

        if (!double.IsFinite(Margin) || Margin < 0)
        {
            throw new ArgumentException($"Margin must be a finite score difference >= 0, got {Margin}.", nameof(Margin));
        }

        if (!(MaxCellFraction is > 0 and <= 1))
        {
            throw new ArgumentException($"MaxCellFraction must lie in (0, 1], got {MaxCellFraction}.", nameof(MaxCellFraction));
        }

        if (!double.IsFinite(PlausibleMads) || PlausibleMads <= 0)
        {
            throw new ArgumentException($"PlausibleMads must be > 0, got {PlausibleMads}.", nameof(PlausibleMads));
        }

        if (StepsPerCell is < 1 or > 1000)
        {
            throw new ArgumentException($"StepsPerCell must lie in 1..1000, got {StepsPerCell}.", nameof(StepsPerCell));
        }
    }
}

/// <summary>One changed cell of a counterfactual, in the window's received units (sensor units).</summary>
/// <param name="Channel">The channel's index.</param>
/// <param name="ChannelName">The channel's name in the model's metadata.</param>
/// <param name="Step">The time step within the window, 0 the oldest.</param>
/// <param name="From">The received value.</param>
/// <param name="To">The value that, with the other listed changes, makes the window score below the level.</param>
public sealed record CounterfactualChange(int Channel, string ChannelName, int Step, float From, float To);

/// <summary>
/// What would have made one window score below a level: the changed cells, or why none was found within the budget.
/// </summary>
/// <param name="Found">True when the changes bring the score below <paramref name="Below"/> on the explainer's kernels.</param>
/// <param name="Below">The level the score had to fall below.</param>
/// <param name="ScoreBefore">The window's score as received.</param>
/// <param name="ScoreAfter">The score of <paramref name="Window"/> (the best reached when nothing was found).</param>
/// <param name="Changes">The changed cells, by channel then step; empty when not found or when the window already scored below the level.</param>
/// <param name="Window">The received window with the changes applied (channel-major); the received window when not found.</param>
/// <param name="MaxCells">The budget: the most cells the search could change.</param>
/// <param name="Evaluations">Windows scored or differentiated by the search (its cost).</param>
/// <param name="Reason">Why nothing was found (for example the budget was spent), or that the window was already below the level; null when found by changing cells.</param>
public sealed record CounterfactualResult(
    bool Found, double Below, float ScoreBefore, float ScoreAfter, IReadOnlyList<CounterfactualChange> Changes, float[] Window, int MaxCells, int Evaluations, string? Reason);
