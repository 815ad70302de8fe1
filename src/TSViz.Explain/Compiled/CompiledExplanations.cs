using TSViz.Explain.Attribution;
using TSViz.Explain.Graph;
using TSViz.Explain.Robustness;

namespace TSViz.Explain.Compiled;

/// <summary>
/// The explanations on a <see cref="CompiledConvNet"/>, computing exactly what the TorchSharp kernels compute
/// (<see cref="SaliencyAndInfluenceKernel"/>, <see cref="AdversarialAttack"/>) block by block. Inputs are windows in
/// model space (preprocessed); each call runs on the calling thread with one rented workspace.
/// </summary>
internal static class CompiledExplanations
{
    /// <summary>Saliency gradients, influence, contribution and activations of every window: one forward and one backward pass per block.</summary>
    public static GradientPass Gradients(CompiledConvNet net, float[] input, int count, IReadOnlyList<ModelLayer> explainedLayers, ExplainOptions options)
        => Gradients(net, input, count, explainedLayers, options, fgsm: null, threshold: null, includeWindows: false).Pass;

    /// <summary>
    /// <see cref="Gradients(CompiledConvNet, float[], int, IReadOnlyList{ModelLayer}, ExplainOptions)"/> and, with
    /// <paramref name="fgsm"/>, FGSM at that eps from the same backward pass: when the explained quantity is the one
    /// the attack differentiates (the logit, or the output of a model without a sigmoid), the attack's gradient is
    /// the saliency's times the window's direction, so only the rescoring forward pass is added. Without
    /// <paramref name="includeWindows"/> the FGSM results carry no windows (empty arrays).
    /// </summary>
    public static (GradientPass Pass, RobustnessResult[]? Fgsm) Gradients(
        CompiledConvNet net, float[] input, int count, IReadOnlyList<ModelLayer> explainedLayers, ExplainOptions options, double? fgsm, double? threshold, bool includeWindows)
    {
        var quantity = Quantity.Resolve(net, options.Target, options.Temperature);
        int size = net.Channels * net.Length;
        var inputGradient = new float[count * size];
        var influence = explainedLayers.Select(l => new float[count * l.Filters]).ToArray();
        var contribution = explainedLayers.Select(l => options.IncludeContribution ? new float[count * l.Filters] : null!).ToArray();
        var activations = explainedLayers.Select(l => options.IncludeActivations ? new float[count * l.Filters * l.OutputLength] : null!).ToArray();
        var score = new float[count];
        var explained = new float[count];
        var seed = new float[ConvNetPass.Block];
        if (fgsm is not null && quantity.Effective != Quantity.Resolve(net, GradientTarget.Auto, 1).Effective)
        {
            throw new ArgumentException("FGSM shares the saliency's backward pass only when the saliency explains the attack's quantity (the default target).", nameof(options));
        }

        var attacked = fgsm is null ? null : new RobustnessResult[count];
        var adversarial = fgsm is null ? null : new float[ConvNetPass.Block * size];
        var pass = net.Rent();
        try
        {
            int first = 0;
            Action<int>? atLayer = explainedLayers.Count == 0 ? null : s => pass.LayerGradientSums(s, influence[s], contribution[s], first);
            for (; first < count; first += ConvNetPass.Block)
            {
                int n = Math.Min(ConvNetPass.Block, count - first);
                pass.Forward(input, first, n);
                for (int b = 0; b < n; b++)
                {
                    float logit = pass.Logits[b];
                    score[first + b] = pass.Score(b);
                    (explained[first + b], seed[b]) = quantity.Of(logit);
                }

                pass.Backward(seed.AsSpan(0, n), toInput: true, atLayer);
                pass.InputGradient(inputGradient, first);
                for (int l = 0; l < activations.Length; l++)
                {
                    if (activations[l] is { } values)
                    {
                        pass.Activations(l, values, first);
                    }
                }

                if (fgsm is double epsilon)
                {
                    FgsmStep(pass, input, inputGradient, first, n, size, epsilon, threshold, score, adversarial!, attacked!, includeWindows);
                }
            }
        }
        finally
        {
            net.Return(pass);
        }

        return (new GradientPass(inputGradient, influence, contribution, activations, score, explained, quantity.Description), attacked);
    }

    /// <summary>One FGSM step from the block's gradient (the attack's, up to each window's direction), then the rescoring pass.</summary>
    private static void FgsmStep(ConvNetPass pass, float[] input, float[] inputGradient, int first, int n, int size, double epsilon, double? threshold,
        float[] score, float[] adversarial, RobustnessResult[] attacked, bool includeWindows)
    {
        float e = (float)epsilon;
        for (int b = 0; b < n; b++)
        {
            float before = score[first + b];
            float direction = threshold is double th && before >= (float)th ? -1f : 1f;
            int offset = (first + b) * size;
            for (int i = 0; i < size; i++)
            {
                float g = direction * inputGradient[offset + i];
                float x0 = input[offset + i];
                float stepped = x0 + ((g > 0 ? 1f : g < 0 ? -1f : 0f) * e);
                adversarial[(b * size) + i] = Math.Min(Math.Max(stepped, x0 - e), x0 + e);
            }
        }

        pass.Forward(adversarial, 0, n);
        for (int b = 0; b < n; b++)
        {
            attacked[first + b] = Result(Fgsm.MethodName, epsilon, epsilon, 1, score[first + b], pass.Score(b), threshold,
                input.AsSpan((first + b) * size, size), adversarial.AsSpan(b * size, size), includeWindows);
        }
    }

    /// <summary>One window's attack result, as <see cref="AdversarialAttack.Iterative"/> reports it; without <paramref name="includeWindows"/> its windows are empty.</summary>
    private static RobustnessResult Result(string method, double epsilon, double alpha, int steps, float before, float after, double? threshold,
        ReadOnlySpan<float> window, ReadOnlySpan<float> moved, bool includeWindows)
    {
        float maxShift = 0;
        for (int i = 0; i < window.Length; i++)
        {
            maxShift = Math.Max(maxShift, Math.Abs(moved[i] - window[i]));
        }

        return new RobustnessResult(method, epsilon, alpha, steps, before, after,
            threshold is double th ? (before >= th) != (after >= th) : null, maxShift,
            includeWindows ? window.ToArray() : [], includeWindows ? moved.ToArray() : []);
    }

    /// <summary>
    /// Per-filter saliency |d(sum_t a_j(t))/dx| of the chosen filters (all when none are chosen), as
    /// <see cref="PerFilterSaliencyKernel.Batched"/> orders them: per window, layer by layer, filters in the order chosen.
    /// One forward pass per block, then one backward pass per filter from its layer down.
    /// </summary>
    public static FilterSaliencyMap[][] FilterSaliency(CompiledConvNet net, IReadOnlyList<ModelLayer> layers, float[] input, int count, IReadOnlyDictionary<string, int[]>? chosen, CancellationToken cancellationToken)
    {
        PerFilterSaliencyKernel.CheckLayers(layers, chosen);
        var filters = layers.Select(l => PerFilterSaliencyKernel.Filters(l, chosen)).ToArray();
        int size = net.Channels * net.Length;
        var results = Enumerable.Range(0, count).Select(_ => new List<FilterSaliencyMap>()).ToArray();
        var gradient = new float[ConvNetPass.Block * size];
        var pass = net.Rent();
        try
        {
            for (int first = 0; first < count; first += ConvNetPass.Block)
            {
                int n = Math.Min(ConvNetPass.Block, count - first);
                pass.Forward(input, first, n);
                for (int l = 0; l < layers.Count; l++)
                {
                    foreach (int f in filters[l])
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        pass.FilterBackward(l, f);
                        pass.InputGradient(gradient, 0);
                        for (int b = 0; b < n; b++)
                        {
                            var map = gradient.AsSpan(b * size, size).ToArray();
                            for (int i = 0; i < map.Length; i++)
                            {
                                map[i] = Math.Abs(map[i]);
                            }

                            results[first + b].Add(new FilterSaliencyMap(layers[l].Name, f, map));
                        }
                    }
                }
            }
        }
        finally
        {
            net.Return(pass);
        }

        return [.. results.Select(r => r.ToArray())];
    }

    /// <summary>The reported score of every window: one forward pass per block.</summary>
    public static float[] Scores(CompiledConvNet net, ReadOnlySpan<float> input, int count)
        => Forward(net, input, count, static (pass, lane) => pass.Score(lane));

    /// <summary>The quantity <paramref name="target"/> selects for every window (what deletion curves measure).</summary>
    public static double[] Evaluate(CompiledConvNet net, ReadOnlySpan<float> input, int count, GradientTarget target, double temperature)
    {
        var quantity = Quantity.Resolve(net, target, temperature);
        return Forward(net, input, count, (pass, lane) => (double)quantity.Of(pass.Logits[lane]).Value);
    }

    /// <summary>One forward pass per block, and <paramref name="read"/> of each window's lane.</summary>
    private static T[] Forward<T>(CompiledConvNet net, ReadOnlySpan<float> input, int count, Func<ConvNetPass, int, T> read)
    {
        var values = new T[count];
        var pass = net.Rent();
        try
        {
            for (int first = 0; first < count; first += ConvNetPass.Block)
            {
                int n = Math.Min(ConvNetPass.Block, count - first);
                pass.Forward(input, first, n);
                for (int b = 0; b < n; b++)
                {
                    values[first + b] = read(pass, b);
                }
            }
        }
        finally
        {
            net.Return(pass);
        }

        return values;
    }

    /// <summary>
    /// Iterative FGSM with a fixed step (one step of size eps is FGSM), as <see cref="AdversarialAttack.Iterative"/>:
    /// against the model's own decision along the logit (or the output of a model without a sigmoid).
    /// </summary>
    public static RobustnessResult[] Iterative(CompiledConvNet net, double? threshold, float[] input, int count, double epsilon, double alpha, int steps, string method, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epsilon);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        int size = net.Channels * net.Length;
        var results = new RobustnessResult[count];
        var pass = net.Rent();
        try
        {
            var attack = new Attack(net, pass, threshold);
            for (int first = 0; first < count; first += ConvNetPass.Block)
            {
                int n = Math.Min(ConvNetPass.Block, count - first);
                attack.Decide(input, first, n);
                var eps = new float[n];
                var stepSizes = new float[n];
                Array.Fill(eps, (float)epsilon);
                Array.Fill(stepSizes, (float)alpha);
                var adversarial = attack.Run(eps, stepSizes, steps, cancellationToken);
                var after = attack.Rescore(adversarial, n);
                for (int b = 0; b < n; b++)
                {
                    results[first + b] = Result(method, epsilon, alpha, steps, attack.Before[b], after[b], threshold,
                        input.AsSpan((first + b) * size, size), adversarial.AsSpan(b * size, size), includeWindows: true);
                }
            }
        }
        finally
        {
            net.Return(pass);
        }

        return results;
    }

    /// <summary>The bisection of <see cref="AdversarialAttack.SmallestFlippingEpsilon"/>, in the same float steps, per block.</summary>
    public static FlipSearchResult[] SmallestFlippingEpsilon(CompiledConvNet net, double threshold, float[] input, int count, FlipSearchOptions options, CancellationToken cancellationToken)
    {
        if (options.EpsilonMax <= 0 || options.Tolerance <= 0 || options.Steps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options, "eps_max and the tolerance must be positive, and steps at least 1.");
        }

        float alphaPerEpsilon = (float)(2.5 / options.Steps);
        var results = new FlipSearchResult[count];
        var pass = net.Rent();
        try
        {
            var attack = new Attack(net, pass, threshold);
            for (int first = 0; first < count; first += ConvNetPass.Block)
            {
                int n = Math.Min(ConvNetPass.Block, count - first);
                attack.Decide(input, first, n);
                var decided = attack.Before.Select(s => s >= (float)threshold).ToArray();
                bool[] FlipsAt(float[] eps, out float[] scores)
                {
                    var alpha = eps.Select(e => e * alphaPerEpsilon).ToArray();
                    scores = attack.Rescore(attack.Run(eps, alpha, options.Steps, cancellationToken), n);
                    var flips = new bool[n];
                    for (int b = 0; b < n; b++)
                    {
                        flips[b] = (scores[b] >= (float)threshold) != decided[b];
                    }

                    return flips;
                }

                var high = Enumerable.Repeat((float)options.EpsilonMax, n).ToArray();
                var low = new float[n];
                var flippedAtMax = FlipsAt(high, out var scoresAtMax);
                var best = (float[])scoresAtMax.Clone();
                // As libtorch's loop: until the widest interval of the block is within the tolerance (the widths agree up
                // to the rounding of each window's midpoint).
                while (Enumerable.Range(0, n).Max(b => high[b] - low[b]) > options.Tolerance)
                {
                    var middle = new float[n];
                    for (int b = 0; b < n; b++)
                    {
                        middle[b] = (low[b] + high[b]) / 2f;
                    }

                    var flips = FlipsAt(middle, out var scores);
                    for (int b = 0; b < n; b++)
                    {
                        if (flips[b])
                        {
                            high[b] = middle[b];
                            best[b] = scores[b];
                        }
                        else
                        {
                            low[b] = middle[b];
                        }
                    }
                }

                for (int b = 0; b < n; b++)
                {
                    results[first + b] = flippedAtMax[b]
                        ? new FlipSearchResult(attack.Before[b], decided[b], high[b], null, options.Tolerance, best[b])
                        : new FlipSearchResult(attack.Before[b], decided[b], null, options.EpsilonMax, options.Tolerance, scoresAtMax[b]);
                }
            }
        }
        finally
        {
            net.Return(pass);
        }

        return results;
    }

    /// <summary>
    /// The explained quantity as a function of the logit, and its derivative: what the backward pass is seeded with.
    /// </summary>
    internal readonly record struct Quantity(GradientTarget Effective, bool Sigmoid, float Temperature, string Description)
    {
        public static Quantity Resolve(CompiledConvNet net, GradientTarget target, double temperature)
        {
            var effective = target == GradientTarget.Auto ? (net.Sigmoid ? GradientTarget.Logit : GradientTarget.Output) : target;
            if (effective != GradientTarget.Output && !net.Sigmoid)
            {
                throw new InvalidOperationException($"The model's output is not a sigmoid or softmax, so it has no logit; use {GradientTarget.Output} or {GradientTarget.Auto}.");
            }

            if (effective == GradientTarget.Temperature && temperature <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be positive.");
            }

            string description = effective switch
            {
                GradientTarget.Output => net.Sigmoid ? "probability" : "value",
                GradientTarget.Logit => "logit",
                _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"probability at temperature {temperature}"),
            };
            return new Quantity(effective, net.Sigmoid, (float)temperature, description);
        }

        /// <summary>The quantity and d(quantity)/d(logit).</summary>
        public (float Value, float Derivative) Of(float logit)
        {
            switch (Effective)
            {
                case GradientTarget.Logit:
                    return (logit, 1f);
                case GradientTarget.Output when !Sigmoid:
                    return (logit, 1f);
                case GradientTarget.Output:
                    {
                        float p = ConvNetPass.SigmoidOf(logit);
                        return (p, p * (1f - p));
                    }

                default:
                    {
                        float p = ConvNetPass.SigmoidOf(logit / Temperature);
                        return (p, p * (1f - p) / Temperature);
                    }
            }
        }
    }

    /// <summary>Signed-gradient steps on one block, projected on the box |x - x0| &lt;= eps per window.</summary>
    private sealed class Attack(CompiledConvNet net, ConvNetPass pass, double? threshold)
    {
        private readonly int size = net.Channels * net.Length;
        private readonly Quantity quantity = Quantity.Resolve(net, GradientTarget.Auto, 1);
        private float[] origin = [];
        private float[] direction = [];
        private int count;

        public float[] Before { get; private set; } = [];

        /// <summary>Scores the block's windows and fixes each one's direction: down if decided anomalous, else up.</summary>
        public void Decide(float[] input, int first, int n)
        {
            count = n;
            origin = input.AsSpan(first * size, n * size).ToArray();
            pass.Forward(origin, 0, n);
            Before = new float[n];
            direction = new float[n];
            for (int b = 0; b < n; b++)
            {
                Before[b] = pass.Score(b);
                direction[b] = threshold is double th && Before[b] >= (float)th ? -1f : 1f;
            }
        }

        public float[] Run(float[] eps, float[] alpha, int steps, CancellationToken cancellationToken)
        {
            var x = (float[])origin.Clone();
            var gradient = new float[count * size];
            var seed = new float[count];
            for (int step = 0; step < steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                pass.Forward(x, 0, count);
                for (int b = 0; b < count; b++)
                {
                    seed[b] = direction[b] * quantity.Of(pass.Logits[b]).Derivative;
                }

                pass.Backward(seed);
                pass.InputGradient(gradient, 0);
                for (int b = 0; b < count; b++)
                {
                    float e = eps[b], a = alpha[b];
                    for (int i = b * size; i < (b + 1) * size; i++)
                    {
                        float g = gradient[i];
                        float stepped = x[i] + ((g > 0 ? 1f : g < 0 ? -1f : 0f) * a);
                        x[i] = Math.Min(Math.Max(stepped, origin[i] - e), origin[i] + e);
                    }
                }
            }

            return x;
        }

        public float[] Rescore(float[] windows, int n)
        {
            pass.Forward(windows, 0, n);
            var scores = new float[n];
            for (int b = 0; b < n; b++)
            {
                scores[b] = pass.Score(b);
            }

            return scores;
        }
    }
}
