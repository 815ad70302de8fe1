namespace TSViz.Monitor.Settings;

/// <summary>
/// The counterfactual of every alert (Monitor:Counterfactual): for the peak window of each alert episode, the smallest
/// sparse change to the received window, in sensor units, that the deployed model scores below the alert's close
/// level. Computed off the live path, by its own explainer, whenever an episode opens or its peak rises; verified by
/// rescoring the changed window in ONNX Runtime through the same preprocessing.
/// </summary>
public sealed class CounterfactualSettings
{
    /// <summary>Compute counterfactuals (off: alerts carry none).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The most cells (channel x step) a counterfactual may change, as a share of the window's cells (0.05: 7 of 150).</summary>
    public double MaxCellFraction { get; set; } = 0.05;

    /// <summary>
    /// Changed values are searched within each channel's median in the window plus or minus this many robust standard
    /// deviations (the values the machine showed); the minimal change found may stop short of that range.
    /// </summary>
    public double PlausibleMads { get; set; } = 3;

    /// <summary>How far below the close level the search aims (score units), so the deployed model's rescoring lands below it too.</summary>
    public double Margin { get; set; } = 0.01;

    /// <summary>
    /// Alerts waiting for their counterfactual at most (a newer peak of the same alert replaces its request); beyond it
    /// the oldest request is dropped, counted and logged.
    /// </summary>
    public int MaxPending { get; set; } = 256;

    /// <summary>
    /// The nice value of the thread that computes counterfactuals (0..19; Linux), so the live path and the other
    /// processes of the machine get the processor first.
    /// </summary>
    public int Nice { get; set; } = 10;

    /// <summary>Section Monitor:Counterfactual's rules.</summary>
    internal void Validate(OptionFailures failures)
    {
        failures.Check(MaxCellFraction is > 0 and <= 0.5, "Counterfactual:MaxCellFraction", "must lie in (0, 0.5]", MaxCellFraction);
        failures.Check(PlausibleMads is > 0 and <= 100, "Counterfactual:PlausibleMads", "must lie in (0, 100]", PlausibleMads);
        failures.Check(Margin is >= 0 and < 1, "Counterfactual:Margin", "must lie in [0, 1)", Margin);
        failures.Check(MaxPending is >= 1 and <= 100_000, "Counterfactual:MaxPending", "must lie in 1..100000", MaxPending);
        failures.Check(Nice is >= 0 and <= 19, "Counterfactual:Nice", "must lie in 0..19", Nice);
    }
}
