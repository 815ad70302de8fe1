namespace TSViz.Monitor.Settings;

/// <summary>
/// Drift of inputs, scores and reasons (Monitor:Drift). The nightly drift job builds each machine's reference profile
/// for the deployed model version from its normal windows of the reference period; the live path compares every
/// machine's last <see cref="RollingWindows"/> normal windows with it (Jensen-Shannon divergences, a CUSUM per kind with
/// hysteresis) and publishes the state retained on {OutputPrefix}/{machine}/drift.
/// </summary>
public sealed class DriftSettings
{
    /// <summary>Detect drift (off: no drift features are stored, no references built, nothing compared).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Normal windows per machine in the live comparison, and per calibration block of the reference.</summary>
    public int RollingWindows { get; set; } = 200;

    /// <summary>A kind drifts when its CUSUM of divergence / threshold - 1 reaches this; it leaves drift when the CUSUM drains to 0.</summary>
    public double CusumLimit { get; set; } = 10;

    /// <summary>
    /// The null level is the reference's largest block divergence times this (at least 1), at most halfway from it to
    /// the largest divergence a rolling window can reach.
    /// </summary>
    public double Margin { get; set; } = 2;

    /// <summary>Without <see cref="ReferenceFrom"/>, the reference period is the this many days before the job runs.</summary>
    public double ReferenceDays { get; set; } = 7;

    /// <summary>A fixed reference period's start (with <see cref="ReferenceTo"/>), e.g. a week the plant knows was normal.</summary>
    public DateTimeOffset? ReferenceFrom { get; set; }

    /// <summary>A fixed reference period's end.</summary>
    public DateTimeOffset? ReferenceTo { get; set; }

    /// <summary>Fewer normal windows of a machine than this in the period: no reference is built for it (at least 4 rolling blocks).</summary>
    public int MinReferenceWindows { get; set; } = 1000;

    /// <summary>The reference uses at most the last this many normal windows of each machine in the period.</summary>
    public int MaxReferenceWindows { get; set; } = 20_000;

    /// <summary>
    /// Rebuild every machine's reference each night (false: a reference, once built for a machine and model version, is
    /// kept, so a slow drift is not absorbed into it; a changed fixed period rebuilds it).
    /// </summary>
    public bool Rebuild { get; set; }

    /// <summary>
    /// Build a machine's reference as soon as it has <see cref="MinReferenceWindows"/> normal windows since the monitor
    /// started (the drift job runs for the machines without one), rather than waiting for the night.
    /// </summary>
    public bool BuildWhenReady { get; set; } = true;

    /// <summary>The drift topic is republished every this many compared windows of a machine, and at once on a change of state.</summary>
    public int PublishEveryWindows { get; set; } = 50;

    /// <summary>Section Monitor:Drift's rules.</summary>
    internal void Validate(OptionFailures failures)
    {
        failures.Check(RollingWindows is >= 10 and <= 100_000, "Drift:RollingWindows", "must lie in 10..100000", RollingWindows);
        failures.Check(CusumLimit is > 0 and <= 10_000, "Drift:CusumLimit", "must lie in (0, 10000]", CusumLimit);
        failures.Check(Margin is >= 1 and <= 100, "Drift:Margin", "must lie in [1, 100]", Margin);
        failures.Check(ReferenceDays is > 0 and <= 3650, "Drift:ReferenceDays", "must lie in (0, 3650]", ReferenceDays);
        failures.Check((ReferenceFrom is null) == (ReferenceTo is null), "Drift:ReferenceTo", "must be given together with Drift:ReferenceFrom", ReferenceTo?.ToString("O", System.Globalization.CultureInfo.InvariantCulture) ?? "null");
        failures.Check(ReferenceFrom is null || ReferenceTo is null || ReferenceFrom < ReferenceTo, "Drift:ReferenceFrom", "must be before Drift:ReferenceTo", ReferenceFrom?.ToString("O", System.Globalization.CultureInfo.InvariantCulture) ?? "null");
        failures.Check(MinReferenceWindows >= 4 * RollingWindows, "Drift:MinReferenceWindows", "must be at least 4 x Drift:RollingWindows (calibration needs 4 rolling blocks)", MinReferenceWindows);
        failures.Check(MaxReferenceWindows >= MinReferenceWindows && MaxReferenceWindows <= 1_000_000, "Drift:MaxReferenceWindows", "must lie in Drift:MinReferenceWindows..1000000", MaxReferenceWindows);
        failures.Check(PublishEveryWindows is >= 1 and <= 1_000_000, "Drift:PublishEveryWindows", "must lie in 1..1000000", PublishEveryWindows);
    }
}
