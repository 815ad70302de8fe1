using TSViz.Explain.Runtime;
using TorchSharp;
using TSViz.Explain.Attribution;
using TSViz.Explain.Graph;
using static TorchSharp.torch;

namespace TSViz.Explain.Inversion;

/// <summary>
/// Gradient descent on the input towards a target output, x_{t+1} = x_t - alpha dL/dx_t: binary cross-entropy on
/// the logit for probability models (stable where the sigmoid saturates), squared error for values.
/// </summary>
internal static class InverseOptimizationKernel
{
    public static InverseResult[] Run(OnnxGraph graph, InverseOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Starts, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Steps);
        bool probability = graph.LogitTensor is not null;
        if (probability && (options.Target < 0 || options.Target > 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Target, "The target of a probability model must lie in [0, 1].");
        }

        int channels = graph.Metadata.Channels.Count;
        int length = graph.Metadata.WindowLength;
        // Held for the whole run: a number converted implicitly at each call could be freed during it (see HeldScalars).
        using var initialSd = options.InitialSd.ToScalar();
        using var alpha = options.Alpha.ToScalar();
        using var targetValue = options.Target.ToScalar();
        using var generator = new Generator((ulong)options.Seed);
        var x = randn([options.Starts, channels, length], generator: generator).mul(initialSd).detach();
        var initial = x.ToFloatArray();
        var trajectory = Enumerable.Range(0, options.Starts).Select(_ => new float[options.Steps + 1]).ToArray();
        var target = full([options.Starts], targetValue);

        for (int step = 0; step <= options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var leaf = x.detach().requires_grad_(true);
            Tensor gradient;
            using (enable_grad())
            {
                var values = graph.Run(leaf);
                var score = ExplainedQuantity.Score(values[graph.ScoreOutput]).detach().ToFloatArray();
                for (int s = 0; s < options.Starts; s++)
                {
                    trajectory[s][step] = score[s];
                }

                if (step == options.Steps)
                {
                    break;
                }

                var (quantity, _) = ExplainedQuantity.Select(graph, values, probability ? GradientTarget.Logit : GradientTarget.Output, 1);
                var loss = probability
                    ? nn.functional.binary_cross_entropy_with_logits(quantity, target, reduction: nn.Reduction.Sum)
                    : (quantity - target).pow(HeldScalars.Two).sum();
                gradient = autograd.grad([loss], [leaf])[0];
            }

            using var noGrad = no_grad();
            var previous = x;
            x = leaf.add(gradient.mul(alpha), HeldScalars.MinusOne).detach().MoveToOuterDisposeScope();
            previous.Dispose();
        }

        var optimised = x.ToFloatArray();
        int size = channels * length;
        return Enumerable.Range(0, options.Starts).Select(s => new InverseResult(
            initial.AsSpan(s * size, size).ToArray(),
            optimised.AsSpan(s * size, size).ToArray(),
            trajectory[s],
            options.Target)).ToArray();
    }
}
