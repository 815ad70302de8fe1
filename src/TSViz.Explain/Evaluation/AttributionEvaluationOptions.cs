namespace TSViz.Explain.Evaluation;

/// <summary>
/// Settings of <see cref="AttributionEvaluation"/>: the removal grid, the random reference, and the perturbations of
/// infidelity and max-sensitivity. Every draw is seeded, so a run can be repeated.
/// </summary>
public sealed record AttributionEvaluationOptions
{
    /// <summary>The fractions of cells removed: 0, 1 %, ..., 10 %, then 15 %, 20 %, ..., 50 % (fine where the score falls fastest).</summary>
    public static IReadOnlyList<double> DefaultFractions { get; } =
        [.. Enumerable.Range(0, 11).Select(k => k / 100.0), .. Enumerable.Range(3, 8).Select(k => k * 5 / 100.0)];

    /// <summary>Fractions of the deletion and insertion curves (increasing, from 0).</summary>
    public IReadOnlyList<double> Fractions { get; init; } = DefaultFractions;

    /// <summary>Random cell orders per window averaged into the random reference (default 3).</summary>
    public int RandomOrders { get; init; } = 3;

    /// <summary>Standard deviation of infidelity's Gaussian perturbation, in the model's input space (default 0.1).</summary>
    public double InfidelitySigma { get; init; } = 0.1;

    /// <summary>Perturbations per window for infidelity (default 16).</summary>
    public int InfidelitySamples { get; init; } = 16;

    /// <summary>Radius of max-sensitivity's L-infinity ball (default 0.02, Captum's default).</summary>
    public double SensitivityRadius { get; init; } = 0.02;

    /// <summary>Perturbed copies per window for max-sensitivity (default 10, Captum's default).</summary>
    public int SensitivitySamples { get; init; } = 10;

    /// <summary>Windows per call of an attribution method, to bound memory (IG and SmoothGrad multiply it).</summary>
    public int ChunkWindows { get; init; } = 128;

    /// <summary>Windows each timed pass attributes (at most the windows evaluated; default 512).</summary>
    public int ThroughputWindows { get; init; } = 512;

    /// <summary>Rounds in which every method is timed once in turn; each method's fastest pass gives its windows/s (default 5).</summary>
    public int ThroughputRounds { get; init; } = 5;

    /// <summary>Seed of the random orders and the perturbations.</summary>
    public int Seed { get; init; } = 41;
}
