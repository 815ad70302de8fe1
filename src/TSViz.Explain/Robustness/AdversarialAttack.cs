using TorchSharp;
using TSViz.Explain.Runtime;
using TSViz.Explain.Attribution;
using TSViz.Explain.Graph;
using static TorchSharp.torch;

namespace TSViz.Explain.Robustness;

/// <summary>
/// FGSM (Eq. 26) and iterative FGSM (Eq. 27) in the model's input space. Live windows have no label, so the
/// attack pushes against the model's own decision: it ascends -logit for windows decided anomalous and +logit
/// for the others (the sign of the cross-entropy gradient towards the decided label, without its saturation).
/// A model without a threshold is pushed upwards. Every number handed to libtorch is a Scalar held (a <c>using</c>
/// local) until the last call that reads it has returned (see <see cref="HeldScalars"/>).
/// </summary>
internal static class AdversarialAttack
{
    public static RobustnessResult[] Iterative(OnnxGraph graph, Tensor received, double epsilon, double alpha, int steps, string method, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epsilon);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var x0 = ModelInput(graph, received);
        var (scoreBefore, direction) = Decide(graph, x0);
        using var epsilonScalar = epsilon.ToScalar();
        using var alphaScalar = alpha.ToScalar();
        var eps = full([x0.shape[0], 1, 1], epsilonScalar);
        var adversarial = Attack(graph, x0, direction, eps, alpha: null, fixedAlpha: alphaScalar, steps, cancellationToken);
        var scoreAfter = Scores(graph, adversarial);

        int count = (int)x0.shape[0];
        int size = (int)(x0.shape[1] * x0.shape[2]);
        var before = scoreBefore.ToFloatArray();
        var after = scoreAfter.ToFloatArray();
        var original = x0.ToFloatArray();
        var moved = adversarial.ToFloatArray();
        double? threshold = graph.Metadata.DecisionThreshold;
        var results = new RobustnessResult[count];
        for (int w = 0; w < count; w++)
        {
            var window = original.AsSpan(w * size, size).ToArray();
            var adv = moved.AsSpan(w * size, size).ToArray();
            float maxShift = 0;
            for (int i = 0; i < size; i++)
            {
                maxShift = Math.Max(maxShift, Math.Abs(adv[i] - window[i]));
            }

            results[w] = new RobustnessResult(
                method, epsilon, alpha, steps, before[w], after[w],
                threshold is double th ? (before[w] >= th) != (after[w] >= th) : null,
                maxShift, window, adv);
        }

        return results;
    }

    public static FlipSearchResult[] SmallestFlippingEpsilon(OnnxGraph graph, Tensor received, FlipSearchOptions options, CancellationToken cancellationToken)
    {
        if (graph.Metadata.DecisionThreshold is not double threshold)
        {
            throw new InvalidOperationException("The model declares no decision threshold, so no decision can flip.");
        }

        if (options.EpsilonMax <= 0 || options.Tolerance <= 0 || options.Steps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options, "eps_max and the tolerance must be positive, and steps at least 1.");
        }

        using var thresholdScalar = threshold.ToScalar();
        using var alphaPerEpsilon = (2.5 / options.Steps).ToScalar();
        using var epsilonMax = options.EpsilonMax.ToScalar();
        var x0 = ModelInput(graph, received);
        var (scoreBefore, direction) = Decide(graph, x0);
        var decision = scoreBefore.ge(thresholdScalar);
        long count = x0.shape[0];

        bool[] FlipsAt(Tensor eps, out float[] scores)
        {
            using var scope = NewDisposeScope();
            var adversarial = Attack(graph, x0, direction, eps.reshape(count, 1, 1), alpha: eps.reshape(count, 1, 1).mul(alphaPerEpsilon), fixedAlpha: null, options.Steps, cancellationToken);
            var after = Scores(graph, adversarial);
            scores = after.ToFloatArray();
            return after.ge(thresholdScalar).not_equal(decision).data<bool>().ToArray();
        }

        var high = full([count], epsilonMax);
        var flippedAtMax = FlipsAt(high, out var scoresAtMax);
        var low = zeros([count]);
        var best = (float[])scoresAtMax.Clone();
        while ((high - low).max().item<float>() > options.Tolerance)
        {
            var middle = low.add(high, HeldScalars.One).div(HeldScalars.Two);
            var flips = FlipsAt(middle, out var scores);
            var flipTensor = tensor(flips);
            high = where(flipTensor, middle, high);
            low = where(flipTensor, low, middle);
            for (int w = 0; w < count; w++)
            {
                if (flips[w])
                {
                    best[w] = scores[w];
                }
            }
        }

        var before = scoreBefore.ToFloatArray();
        var decided = decision.data<bool>().ToArray();
        var smallest = high.ToFloatArray();
        return Enumerable.Range(0, (int)count).Select(w => flippedAtMax[w]
            ? new FlipSearchResult(before[w], decided[w], smallest[w], null, options.Tolerance, best[w])
            : new FlipSearchResult(before[w], decided[w], null, options.EpsilonMax, options.Tolerance, scoresAtMax[w])).ToArray();
    }

    private static Tensor ModelInput(OnnxGraph graph, Tensor received)
    {
        using var noGrad = no_grad();
        return TorchPreprocessing.Apply(graph.Metadata.Preprocessing, received).detach();
    }

    /// <summary>Scores and the per-window sign (+1 or -1) of the direction that moves the output across the threshold.</summary>
    private static (Tensor Score, Tensor Direction) Decide(OnnxGraph graph, Tensor x0)
    {
        var score = Scores(graph, x0);
        var up = ones_like(score);
        if (graph.Metadata.DecisionThreshold is not double threshold)
        {
            return (score, up);
        }

        using var thresholdScalar = threshold.ToScalar();
        return (score, where(score.ge(thresholdScalar), up.neg(), up));
    }

    private static Tensor Scores(OnnxGraph graph, Tensor x)
    {
        using var noGrad = no_grad();
        return ExplainedQuantity.Score(graph.Forward(x)).detach();
    }

    /// <summary>Ascends direction * logit with signed steps, projected on the box |x - x0| &lt;= eps after each step.</summary>
    /// <param name="graph">The model.</param>
    /// <param name="x0">The windows in model input space [N, C, T].</param>
    /// <param name="direction">Per window, +1 to push the logit up, -1 to push it down [N].</param>
    /// <param name="eps">Per-window budgets [N, 1, 1].</param>
    /// <param name="alpha">Per-window step sizes [N, 1, 1]; when null, every window steps by <paramref name="fixedAlpha"/>.</param>
    /// <param name="fixedAlpha">The step size of every window when <paramref name="alpha"/> is null.</param>
    /// <param name="steps">Signed-gradient steps.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    private static Tensor Attack(OnnxGraph graph, Tensor x0, Tensor direction, Tensor eps, Tensor? alpha, Scalar? fixedAlpha, int steps, CancellationToken cancellationToken)
    {
        var lower = x0.add(eps, HeldScalars.MinusOne);
        var upper = x0.add(eps, HeldScalars.One);
        var x = x0.clone();
        for (int step = 0; step < steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var leaf = x.detach().requires_grad_(true);
            Tensor gradient;
            using (enable_grad())
            {
                var values = graph.Run(leaf);
                var (objective, _) = ExplainedQuantity.Select(graph, values, GradientTarget.Auto, 1);
                gradient = autograd.grad([(objective * direction).sum()], [leaf])[0];
            }

            using var noGrad = no_grad();
            var sign = gradient.sign();
            var stepped = leaf.add(alpha is null ? sign.mul(fixedAlpha!) : sign.mul(alpha), HeldScalars.One);
            var previous = x;
            x = minimum(maximum(stepped, lower), upper).detach().MoveToOuterDisposeScope();
            previous.Dispose();
        }

        return x;
    }
}
