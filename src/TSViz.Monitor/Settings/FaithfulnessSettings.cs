namespace TSViz.Monitor.Settings;

/// <summary>
/// The faithfulness check on every window of an open alert that the model flags (so on every alert's peak): the score after its most salient
/// <see cref="Fraction"/> of cells are set to the baseline, against the mean over <see cref="RandomDraws"/> removals of
/// as many random cells. The explanation passes when the deletion lowers the score at least <see cref="MinMargin"/>
/// more than the random removals do; an alert that fails is flagged, never hidden.
/// </summary>
public sealed class FaithfulnessSettings
{
    /// <summary>Run the check (off: alerts and explanations carry no faithfulness part).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Share of the window's cells removed, most salient first (0.05: the top 5 %).</summary>
    public double Fraction { get; set; } = 0.05;

    /// <summary>Random removals of as many cells the deletion is compared with (their mean score).</summary>
    public int RandomDraws { get; set; } = 8;

    /// <summary>How much lower than the random removals' mean the deletion must leave the score (score units, 0-1 for a probability).</summary>
    public double MinMargin { get; set; } = 0.1;

    /// <summary>Section Monitor:Faithfulness's rules.</summary>
    internal void Validate(OptionFailures failures)
    {
        failures.Check(Fraction is > 0 and <= 0.5, "Faithfulness:Fraction", "must lie in (0, 0.5]", Fraction);
        failures.Check(RandomDraws is >= 1 and <= 64, "Faithfulness:RandomDraws", "must lie in 1..64", RandomDraws);
        failures.Check(MinMargin is >= 0 and <= 1000, "Faithfulness:MinMargin", "must lie in 0..1000", MinMargin);
    }
}
