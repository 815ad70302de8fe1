namespace TSViz.Explain.Robustness;

/// <summary>
/// One window under attack, in the model's input space (after preprocessing). <see cref="Flipped"/> is null for a
/// model without a decision threshold; such a model's attack pushes its output up.
/// </summary>
public sealed record RobustnessResult(
    string Method,
    double Epsilon,
    double Alpha,
    int Steps,
    float ScoreBefore,
    float ScoreAfter,
    bool? Flipped,
    float MaxPerturbation,
    float[] Window,
    float[] AdversarialWindow);

/// <summary>Iterative FGSM (Eq. 27). The defaults are a fast setting for live use; <see cref="Paper"/> is the paper's.</summary>
public sealed record IterativeFgsmOptions
{
    public static IterativeFgsmOptions Paper { get; } = new() { Epsilon = 0.1, Alpha = 1e-4, Steps = 1000 };

    public double Epsilon { get; init; } = 0.1;
    public double Alpha { get; init; } = 0.02;
    public int Steps { get; init; } = 10;
}

/// <summary>
/// The search for the smallest flipping eps: bisection on eps in (0, <see cref="EpsilonMax"/>] until the bracket is
/// narrower than <see cref="Tolerance"/>; at each eps the attack is iterative FGSM with <see cref="Steps"/> steps of
/// alpha = 2.5 eps / steps (so the eps box can be crossed and reached).
/// </summary>
public sealed record FlipSearchOptions
{
    public double EpsilonMax { get; init; } = 0.5;
    public double Tolerance { get; init; } = 0.01;
    public int Steps { get; init; } = 5;
}

/// <summary>
/// The smallest eps (an upper bound within <see cref="Tolerance"/> of the true boundary of this attack) that flips
/// the decision, or null with <see cref="NotFlippedUpTo"/> set when eps_max does not flip it.
/// </summary>
public sealed record FlipSearchResult(float ScoreBefore, bool Decision, double? SmallestFlippingEpsilon, double? NotFlippedUpTo, double Tolerance, float ScoreAtEpsilon);
