using System.Diagnostics;
using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using TSViz.Explain.Graph;
using TSViz.Explain.Onnx;

namespace TSViz.Explain.Evaluation;

/// <summary>
/// Scores input attribution methods on the deployed weights, on the quantity they explain (the logit of a
/// classifier, the forecast of a regression): deletion and insertion curves against a random order, infidelity,
/// max-sensitivity, the completeness gap, pointing and AUPRC against planted spikes, and each method's throughput
/// measured in the same run. Every method sees the same windows, random orders and perturbations.
/// </summary>
public static class AttributionEvaluation
{
    /// <summary>
    /// Evaluates <paramref name="methods"/> (names of <see cref="AttributionSaliency.Methods"/>) on
    /// <paramref name="count"/> windows as received; <paramref name="spikes"/>, when given (one per window), adds the
    /// ground-truth scores. <paramref name="progress"/> hears one line per finished step.
    /// </summary>
    public static AttributionEvaluationResult Run(
        Explainer explainer,
        ReadOnlySpan<float> windows,
        int count,
        IReadOnlyList<string> methods,
        IReadOnlyList<PlantedSpike>? spikes = null,
        AttributionEvaluationOptions? options = null,
        Action<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        ArgumentNullException.ThrowIfNull(methods);
        options ??= new AttributionEvaluationOptions();
        if (spikes is not null && spikes.Count != count)
        {
            throw new ArgumentException($"Expected one planted spike (or none) per window ({count}), got {spikes.Count}.", nameof(spikes));
        }

        var metadata = explainer.Metadata;
        int length = metadata.WindowLength, size = metadata.Channels.Count * length;
        var received = windows.ToArray();
        var modelInput = explainer.ToModelSpace(received, count);
        var explained = explainer.EvaluateModelSpace(modelInput, count, cancellationToken: cancellationToken);
        double atBaseline = explainer.EvaluateModelSpace(new float[size], 1, cancellationToken: cancellationToken)[0];
        bool classifier = explainer.Graph.LogitTensor is not null;
        var flagged = classifier ? Flagged(explainer, received, count) : new bool[count];
        var sign = new double[count];
        for (int w = 0; w < count; w++)
        {
            sign[w] = classifier ? (flagged[w] ? 1 : -1) : (explained[w] >= atBaseline ? 1 : -1);
        }

        var random = RandomReference(explainer, modelInput, count, sign, options, cancellationToken);
        progress?.Invoke($"random reference: deletion area {random.Deletion.Area:G4}, insertion area {random.Insertion.Area:G4}");
        var infidelity = Infidelity.Perturb(explainer, modelInput, count, options.InfidelitySigma, options.InfidelitySamples, options.Seed, cancellationToken: cancellationToken);
        var shaken = MaxSensitivity.Perturb(received, count, options.SensitivityRadius, options.SensitivitySamples, options.Seed + 1);

        var speed = Throughput(explainer, methods, received, count, options, cancellationToken);
        var results = new List<MethodEvaluation>();
        foreach (string method in methods)
        {
            double perSecond = speed[method];
            var attributions = Attribute(explainer, method, received, count, options.ChunkWindows, cancellationToken);
            var maps = attributions.Select(a => a.Attribution).ToList();

            var orders = maps.Select(m => CellRemoval.Order(m)).ToList();
            var deletion = MeanCurve(CellRemoval.Curves(explainer, modelInput, count, orders, options.Fractions, RemovalMode.Deletion, cancellationToken: cancellationToken), sign, options.Fractions);
            var insertion = MeanCurve(CellRemoval.Curves(explainer, modelInput, count, orders, options.Fractions, RemovalMode.Insertion, cancellationToken: cancellationToken), sign, options.Fractions);
            double infid = Infidelity.Score(infidelity, maps, normalize: false).Average();
            double infidNormalized = Infidelity.Score(infidelity, maps, normalize: true).Average();

            // Max-sensitivity re-runs the method on every perturbed copy.
            var perturbed = Attribute(explainer, method, shaken, count * options.SensitivitySamples, options.ChunkWindows, cancellationToken).Select(a => a.Attribution).ToList();
            double sensitivity = MaxSensitivity.Score(maps, perturbed, options.SensitivitySamples).Average();

            var gaps = attributions.Where(a => !double.IsNaN(a.CompletenessGap)).ToList();
            double gap = gaps.Count == 0 ? double.NaN : gaps.Average(a => Math.Abs(a.CompletenessGap)) / Math.Max(gaps.Average(a => Math.Abs(a.Explained - a.BaselineExplained)), 1e-12);
            var truth = spikes is null ? null : GroundTruth(maps, spikes, flagged, length);
            var evaluation = new MethodEvaluation(method, perSecond, deletion, insertion, infid, infidNormalized, sensitivity, gap, truth);
            results.Add(evaluation);
            progress?.Invoke($"{method}: {perSecond:F0} windows/s, deletion area {deletion.Area:G4}, insertion area {insertion.Area:G4}");
        }

        string orientation = classifier
            ? "s = +1 on windows the model flags, -1 on the others (the predicted class's logit)"
            : "s = sign(y(x) - y(all cells 0))";
        return new AttributionEvaluationResult(count, classifier ? "logit" : "value", orientation, options, random, results);
    }

    /// <summary>How long a timed pass lasts at least.</summary>
    private static readonly TimeSpan MinimumTimedPass = TimeSpan.FromSeconds(0.2);

    /// <summary>
    /// Windows per second of each method on up to <see cref="AttributionEvaluationOptions.ThroughputWindows"/> windows:
    /// one warm-up call each, then <see cref="AttributionEvaluationOptions.ThroughputRounds"/> rounds that time every
    /// method once in turn, keeping each method's fastest pass. Taking turns spreads another process's load on a shared
    /// machine over all methods instead of charging it to whichever ran at the time. Before each timed pass, a full
    /// collection and one untimed call of the method itself, and each round starts with the next method: timed first in
    /// every round after occlusion, the gradient was measured at half the speed of the same kernel timed later
    /// (gradient x input).
    /// </summary>
    internal static Dictionary<string, double> Throughput(Explainer explainer, IReadOnlyList<string> methods, float[] received, int count, AttributionEvaluationOptions options, CancellationToken cancellationToken)
    {
        int size = received.Length / count, n = Math.Min(count, Math.Max(1, options.ThroughputWindows));
        var windows = received.AsSpan(0, n * size).ToArray();
        var best = methods.Distinct().ToDictionary(m => m, _ => 0.0);
        foreach (string method in best.Keys)
        {
            int warmUp = Math.Min(n, options.ChunkWindows);
            _ = Attribute(explainer, method, windows.AsSpan(0, warmUp * size), warmUp, options.ChunkWindows, cancellationToken);
        }

        var methodsInTurn = best.Keys.ToList();
        for (int round = 0; round < Math.Max(1, options.ThroughputRounds); round++)
        {
            // Each round starts with the next method, so no method is always timed first.
            int start = round % methodsInTurn.Count;
            foreach (string method in methodsInTurn.Skip(start).Concat(methodsInTurn.Take(start)))
            {
                // No method pays for what the one before left (occlusion's and IG's large batches: their garbage, and
                // native memory the next allocations fault back in): a collection, then one untimed call of its own.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                int again = Math.Min(n, options.ChunkWindows);
                _ = Attribute(explainer, method, windows.AsSpan(0, again * size), again, options.ChunkWindows, cancellationToken);
                // A pass lasts at least 0.2 s (the windows again and again): a fast method's single pass over 512
                // windows took about 12 ms, too short to time against a busy machine's scheduling.
                var clock = Stopwatch.StartNew();
                long done = 0;
                do
                {
                    _ = Attribute(explainer, method, windows, n, options.ChunkWindows, cancellationToken);
                    done += n;
                }
                while (clock.Elapsed < MinimumTimedPass);

                best[method] = Math.Max(best[method], done / clock.Elapsed.TotalSeconds);
            }
        }

        return best;
    }

    /// <summary>
    /// The method's signed attributions of windows as received, in calls of at most <paramref name="chunk"/> windows
    /// (IG and SmoothGrad hold steps x windows on the tape at once).
    /// </summary>
    internal static InputAttribution[] Attribute(Explainer explainer, string method, ReadOnlySpan<float> windows, int count, int chunk, CancellationToken cancellationToken)
    {
        int size = windows.Length / count;
        var results = new InputAttribution[count];
        var options = new ExplainOptions { IncludeInfluence = false, IncludeReceivedSaliency = false };
        for (int first = 0; first < count; first += chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(chunk, count - first);
            AttributionSaliency.Compute(method, explainer, windows.Slice(first * size, n * size), n, options, cancellationToken).CopyTo(results, first);
        }

        return results;
    }

    private static bool[] Flagged(Explainer explainer, float[] windows, int count)
    {
        double threshold = explainer.Metadata.DecisionThreshold ?? 0.5;
        return [.. explainer.Score(windows, count).Select(p => p >= threshold)];
    }

    private static MethodEvaluation RandomReference(Explainer explainer, float[] modelInput, int count, double[] sign, AttributionEvaluationOptions options, CancellationToken cancellationToken)
    {
        int size = modelInput.Length / count, draws = options.RandomOrders;
        ArgumentOutOfRangeException.ThrowIfLessThan(draws, 1, nameof(options));
        var random = new Random(options.Seed);
        var repeated = new float[count * draws * size];
        var orders = new int[count * draws][];
        var repeatedSign = new double[count * draws];
        for (int w = 0; w < count; w++)
        {
            for (int d = 0; d < draws; d++)
            {
                modelInput.AsSpan(w * size, size).CopyTo(repeated.AsSpan(((w * draws) + d) * size, size));
                orders[(w * draws) + d] = CellRemoval.RandomOrder(size, random);
                repeatedSign[(w * draws) + d] = sign[w];
            }
        }

        // The mean over windows of the mean over draws is the mean over all repeated windows.
        var deletion = MeanCurve(CellRemoval.Curves(explainer, repeated, count * draws, orders, options.Fractions, RemovalMode.Deletion, cancellationToken: cancellationToken), repeatedSign, options.Fractions);
        var insertion = MeanCurve(CellRemoval.Curves(explainer, repeated, count * draws, orders, options.Fractions, RemovalMode.Insertion, cancellationToken: cancellationToken), repeatedSign, options.Fractions);
        return new MethodEvaluation("random", double.NaN, deletion, insertion, double.NaN, double.NaN, double.NaN, double.NaN, null);
    }

    /// <summary>The mean over windows of s_w * y_w(fraction), and its normalised area.</summary>
    internal static RemovalCurve MeanCurve(double[][] curves, IReadOnlyList<double> sign, IReadOnlyList<double> fractions)
    {
        var mean = new double[fractions.Count];
        for (int w = 0; w < curves.Length; w++)
        {
            for (int f = 0; f < mean.Length; f++)
            {
                mean[f] += sign[w] * curves[w][f] / curves.Length;
            }
        }

        return new RemovalCurve(fractions, mean, CellRemoval.NormalizedArea(fractions, mean));
    }

    private static GroundTruthScores GroundTruth(List<float[]> maps, IReadOnlyList<PlantedSpike> spikes, bool[] flagged, int length)
    {
        int positives = 0, exact = 0, near = 0;
        double precision = 0;
        for (int w = 0; w < maps.Count; w++)
        {
            if (!spikes[w].IsAnomaly || !flagged[w])
            {
                continue;
            }

            positives++;
            var hit = SpikeGroundTruth.Pointing(maps[w], spikes[w], length);
            exact += hit.Exact ? 1 : 0;
            near += hit.WithinOneStep ? 1 : 0;
            precision += SpikeGroundTruth.AveragePrecision(maps[w], [(spikes[w].Channel * length) + spikes[w].Step]);
        }

        return positives == 0
            ? new GroundTruthScores(0, double.NaN, double.NaN, double.NaN)
            : new GroundTruthScores(positives, (double)exact / positives, (double)near / positives, precision / positives);
    }
}
