namespace TSViz.Explain.Evaluation;

/// <summary>A mean removal curve: the oriented explained quantity after removing each fraction of cells.</summary>
/// <param name="Fractions">The fractions of cells removed (deletion) or kept (insertion).</param>
/// <param name="Values">The mean over windows of s * y at each fraction (s: see <see cref="AttributionEvaluationResult.Orientation"/>).</param>
/// <param name="Area">Normalised area under the curve (<see cref="CellRemoval.NormalizedArea"/>).</param>
public sealed record RemovalCurve(IReadOnlyList<double> Fractions, IReadOnlyList<double> Values, double Area);

/// <summary>The ground-truth scores on the windows with a planted spike that the model flagged (true positives).</summary>
/// <param name="TruePositives">How many windows were scored.</param>
/// <param name="PointingExact">Share whose top cell is the spiked cell.</param>
/// <param name="PointingWithinOneStep">Share whose top cell is on the spiked channel within one step.</param>
/// <param name="AveragePrecision">Mean average precision of |A| against the spiked cell (AUPRC).</param>
public sealed record GroundTruthScores(int TruePositives, double PointingExact, double PointingWithinOneStep, double AveragePrecision);

/// <summary>One method's scores, means over the windows evaluated (NaN where a metric does not apply).</summary>
/// <param name="Method">The method's name (<see cref="Attribution.AttributionSaliency.Methods"/>), or "random" for the reference order.</param>
/// <param name="WindowsPerSecond">Attribution throughput on this machine, measured in the same run.</param>
/// <param name="Deletion">The deletion curve (lower area: more faithful).</param>
/// <param name="Insertion">The insertion curve (higher area: more faithful).</param>
/// <param name="Infidelity">Mean infidelity (lower is better).</param>
/// <param name="InfidelityNormalized">Mean infidelity with the attribution scaled by its best constant (Captum's normalize=True).</param>
/// <param name="MaxSensitivity">Mean max-sensitivity (lower is better).</param>
/// <param name="CompletenessGap">Mean |sum(A) - (y(x) - y(b))| over mean |y(x) - y(b)|: NaN for the methods without a baseline.</param>
/// <param name="GroundTruth">Pointing and AUPRC, when the windows' spikes are known.</param>
public sealed record MethodEvaluation(
    string Method,
    double WindowsPerSecond,
    RemovalCurve Deletion,
    RemovalCurve Insertion,
    double Infidelity,
    double InfidelityNormalized,
    double MaxSensitivity,
    double CompletenessGap,
    GroundTruthScores? GroundTruth);

/// <summary>The evaluation of input attributions on a set of windows.</summary>
/// <param name="Windows">Windows evaluated.</param>
/// <param name="Explained">The quantity explained ("logit", "value").</param>
/// <param name="Orientation">
/// How removal curves are signed: s = +1 for windows the classifier flags and -1 for the others (the predicted
/// class's logit), or s = sign(y(x) - y(0)) for a regression (removal moves y towards the all-baseline output).
/// </param>
/// <param name="Options">The settings used.</param>
/// <param name="Random">The random-order reference (curves only).</param>
/// <param name="Methods">Every method evaluated, in the order asked.</param>
public sealed record AttributionEvaluationResult(int Windows, string Explained, string Orientation, AttributionEvaluationOptions Options, MethodEvaluation Random, IReadOnlyList<MethodEvaluation> Methods);
