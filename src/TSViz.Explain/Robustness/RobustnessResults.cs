namespace TSViz.Explain.Robustness;

/// <summary>
/// One window under attack, in the model's input space (after preprocessing). <see cref="Flipped"/> is null for a
/// model without a decision threshold; such a model's attack pushes its output up.
/// </summary>
/// <param name="Method">"fgsm" or "iterative-fgsm".</param>
/// <param name="Epsilon">The budget eps: no point moved further than this (Eq. 26-27's clip).</param>
/// <param name="Alpha">The step size (eps for FGSM's single step).</param>
/// <param name="Steps">Signed-gradient steps taken.</param>
/// <param name="ScoreBefore">The model's score of the window.</param>
/// <param name="ScoreAfter">The model's score of the adversarial window.</param>
/// <param name="Flipped">The decision changed; null without a decision threshold.</param>
/// <param name="MaxPerturbation">The largest |x_adv - x| over the window's points, at most <paramref name="Epsilon"/>.</param>
/// <param name="Window">The window in model input space, channel-major.</param>
/// <param name="AdversarialWindow">The perturbed window, channel-major.</param>
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

/// <summary>FGSM (Eq. 26): one step of size eps along the sign of the gradient.</summary>
public sealed record FgsmOptions
{
    /// <summary>The budget eps in model-input units (z-scored windows: standard deviations); the live default is 0.1.</summary>
    public double Epsilon { get; init; } = 0.1;
}

/// <summary>Iterative FGSM (Eq. 27). The defaults are a fast setting for live use; <see cref="Paper"/> is the paper's.</summary>
public sealed record IterativeFgsmOptions
{
    /// <summary>The paper's setting (section IV-E): alpha 1e-4, eps 0.1, 1000 steps (alpha x steps = eps, so every step is needed).</summary>
    public static IterativeFgsmOptions Paper { get; } = new() { Epsilon = 0.1, Alpha = 1e-4, Steps = 1000 };

    /// <summary>The budget eps: after every step the window is clipped to |x - x_0| &lt;= eps.</summary>
    public double Epsilon { get; init; } = 0.1;

    /// <summary>The step size alpha of each signed-gradient step.</summary>
    public double Alpha { get; init; } = 0.02;

    /// <summary>How many steps to take (at least 1).</summary>
    public int Steps { get; init; } = 10;
}

/// <summary>
/// The search for the smallest flipping eps: bisection on eps in (0, <see cref="EpsilonMax"/>] until the bracket is
/// narrower than <see cref="Tolerance"/>; at each eps the attack is iterative FGSM with <see cref="Steps"/> steps of
/// alpha = 2.5 eps / steps (so the eps box can be crossed and reached).
/// </summary>
public sealed record FlipSearchOptions
{
    /// <summary>The largest eps tried; a window that does not flip there is reported as not flipped up to it.</summary>
    public double EpsilonMax { get; init; } = 0.5;

    /// <summary>The bisection stops when the bracket around the boundary is narrower than this.</summary>
    public double Tolerance { get; init; } = 0.01;

    /// <summary>Iterative FGSM steps of the attack at each tried eps.</summary>
    public int Steps { get; init; } = 5;
}

/// <summary>
/// The smallest eps (an upper bound within <see cref="Tolerance"/> of the true boundary of this attack) that flips
/// the decision, or null with <see cref="NotFlippedUpTo"/> set when eps_max does not flip it.
/// </summary>
/// <param name="ScoreBefore">The model's score of the window.</param>
/// <param name="Decision">The window's decision before the attack (score at or above the threshold).</param>
/// <param name="SmallestFlippingEpsilon">The smallest eps found that flips the decision; null when eps_max does not.</param>
/// <param name="NotFlippedUpTo">eps_max when even it does not flip the decision; null otherwise.</param>
/// <param name="Tolerance">The bisection's tolerance: the true boundary lies within this below the reported eps.</param>
/// <param name="ScoreAtEpsilon">The score of the adversarial window at the reported eps (or at eps_max).</param>
public sealed record FlipSearchResult(float ScoreBefore, bool Decision, double? SmallestFlippingEpsilon, double? NotFlippedUpTo, double Tolerance, float ScoreAtEpsilon);
