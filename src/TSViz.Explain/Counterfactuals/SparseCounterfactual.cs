using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using static TorchSharp.torch;

namespace TSViz.Explain.Counterfactuals;

/// <summary>
/// "What would have made this window normal": the smallest sparse change to the received window, in sensor units,
/// that brings the model's score below a level (<see cref="CounterfactualOptions"/>). Greedy over cells: the cell whose
/// move into its channel's plausible range promises the largest drop of the logit (gradient times room, so the most
/// salient cells come first) joins the changed set, then projected sign-gradient steps move the set's values within
/// their ranges; this repeats until the score is below the level or the cell budget is spent. The found change is then
/// made minimal: cells whose change is not needed are put back, and the remaining move is scaled down to the smallest
/// fraction that still scores below the level. Gradients are taken with respect to the received window through the
/// model's own preprocessing (per-window z-scoring moves the whole channel when one value changes), on the explainer's
/// kernels, so the result is a change to the raw window the deployed model scores.
/// </summary>
public sealed class SparseCounterfactual : IExplanationMethod<CounterfactualOptions, CounterfactualResult>
{
    /// <summary>The registry name.</summary>
    public const string MethodName = "counterfactual";

    /// <summary>The longest run of consecutive steps of one channel a single move sets back (a short spike or dip).</summary>
    private const int MaxRun = 4;

    /// <summary>Points tried per round of the final scaling (two rounds: coarse, then within the coarse step).</summary>
    private const int ScalePoints = 16;

    private readonly Explainer explainer;

    /// <summary>The method on <paramref name="explainer"/>'s model.</summary>
    public SparseCounterfactual(Explainer explainer)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        this.explainer = explainer;
    }

    /// <inheritdoc/>
    public string Name => MethodName;

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException"><see cref="CounterfactualOptions.Below"/> is not set and the model declares no decision threshold.</exception>
    public CounterfactualResult[] Explain(WindowBatch windows, CounterfactualOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        explainer.CheckSize(windows.Values.Span, windows.Count);
        double below = options.Below ?? explainer.Metadata.DecisionThreshold
            ?? throw new InvalidOperationException("The model declares no decision threshold; give CounterfactualOptions.Below.");
        int size = explainer.Metadata.Channels.Count * explainer.Metadata.WindowLength;
        var results = new CounterfactualResult[windows.Count];
        for (int w = 0; w < windows.Count; w++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            results[w] = Search(windows.Values.Span.Slice(w * size, size).ToArray(), below, options, cancellationToken);
        }

        return results;
    }

    /// <summary>
    /// The scores of <paramref name="count"/> received windows, the explained quantity (the logit of a sigmoid model,
    /// which keeps moving where the score saturates at 1) and its gradient with respect to each received value,
    /// through the model's preprocessing.
    /// </summary>
    internal static (float[] Scores, float[] Explained, float[] Gradients) ScoresAndReceivedGradients(Explainer explainer, float[] windows, int count)
    {
        var metadata = explainer.Metadata;
        int channels = metadata.Channels.Count, length = metadata.WindowLength, size = channels * length;
        var modelInput = InputAttributions.ModelSpace(metadata, windows, count);
        float[] scores, explained, gradient;
        if (explainer.Compiled is { } compiled)
        {
            var pass = Compiled.CompiledExplanations.Gradients(compiled, modelInput, count, [], new ExplainOptions());
            (scores, explained, gradient) = (pass.Score, pass.Explained, pass.InputGradient);
        }
        else
        {
            using var scope = NewDisposeScope();
            gradient = InputAttributions.GradientAt(explainer, modelInput, count, new ExplainOptions());
            scores = explainer.Score(windows.AsSpan(0, count * size), count);
            explained = [.. explainer.EvaluateModelSpace(modelInput, count).Select(v => (float)v)];
        }

        if (metadata.Preprocessing == WindowPreprocessing.ZScorePerChannel)
        {
            for (int w = 0; w < count; w++)
            {
                for (int c = 0; c < channels; c++)
                {
                    int offset = (w * size) + (c * length);
                    ZScoreChain(windows.AsSpan(offset, length), modelInput.AsSpan(offset, length), gradient.AsSpan(offset, length));
                }
            }
        }

        return (scores, explained, gradient);
    }

    /// <summary>
    /// dy/dr from g = dy/dx for one channel z-scored as x = (r - mean r) / std r: dy/dr = (g - mean(g) - x mean(g x)) / std,
    /// in place. A flat channel (std at <see cref="WindowPreprocessing.MinStd"/>) keeps the divisor the scoring path used.
    /// </summary>
    internal static void ZScoreChain(ReadOnlySpan<float> received, ReadOnlySpan<float> x, Span<float> g)
    {
        int length = received.Length;
        double mean = 0;
        foreach (float v in received)
        {
            mean += v;
        }

        mean /= length;
        double variance = 0, meanG = 0, meanGx = 0;
        for (int t = 0; t < length; t++)
        {
            variance += (received[t] - mean) * (received[t] - mean);
            meanG += g[t];
            meanGx += g[t] * x[t];
        }

        double std = Math.Max(Math.Sqrt(variance / length), WindowPreprocessing.MinStd);
        meanG /= length;
        meanGx /= length;
        for (int t = 0; t < length; t++)
        {
            g[t] = (float)((g[t] - meanG - (x[t] * meanGx)) / std);
        }
    }

    /// <summary>
    /// A channel's plausible values in a window: its median plus or minus <paramref name="mads"/> robust standard
    /// deviations (1.4826 MAD), within its observed minimum and maximum.
    /// </summary>
    internal static (float Low, float High) PlausibleRange(ReadOnlySpan<float> channel, double mads)
    {
        var sorted = channel.ToArray();
        Array.Sort(sorted);
        double median = Median(sorted);
        var deviations = sorted.Select(v => Math.Abs(v - median)).ToArray();
        Array.Sort(deviations);
        double spread = 1.4826 * Median(deviations) * mads;
        return ((float)Math.Max(sorted[0], median - spread), (float)Math.Min(sorted[^1], median + spread));
    }

    private static double Median(ReadOnlySpan<float> sorted)
        => sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + (double)sorted[sorted.Length / 2]) / 2;

    private static double Median(double[] sorted)
        => sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;

    private CounterfactualResult Search(float[] received, double below, CounterfactualOptions options, CancellationToken cancellationToken)
    {
        var metadata = explainer.Metadata;
        int channels = metadata.Channels.Count, length = metadata.WindowLength, size = channels * length;
        int maxCells = Math.Max(1, (int)Math.Floor(options.MaxCellFraction * size));
        int evaluations = 1;
        var (scores, explained, gradient) = ScoresAndReceivedGradients(explainer, received, 1);
        float before = scores[0];
        if (before < below)
        {
            return new CounterfactualResult(true, below, before, before, [], received, maxCells, evaluations, "the window already scores below the level");
        }

        var low = new float[channels];
        var high = new float[channels];
        var typical = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            (low[c], high[c]) = PlausibleRange(received.AsSpan(c * length, length), options.PlausibleMads);
            typical[c] = Math.Clamp(MedianOf(received.AsSpan(c * length, length)), low[c], high[c]);
        }

        double aim = below - options.Margin;
        var x = (float[])received.Clone();
        var chosen = new List<int>();
        var isChosen = new bool[size];
        // Progress is judged on the explained quantity (the logit): a confident alert's score is 1 to float precision
        // until the logit has come down a long way.
        float bestScore = before, bestExplained = explained[0];
        string? reason = null;
        while (bestScore >= aim)
        {
            if (chosen.Count == maxCells)
            {
                reason = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"no change of at most {maxCells} of the window's {size} cells, each within its channel's plausible range, brings the score below {below:0.###}; the lowest reached was {bestScore:0.####}");
                break;
            }

            var (move, tried) = BestMove(x, isChosen, typical, length, maxCells - chosen.Count, bestExplained);
            evaluations += tried;
            if (move.Length == 0)
            {
                reason = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"no further cell differs from its channel's typical value; the lowest reached was {bestScore:0.####} with {chosen.Count} cells changed");
                break;
            }

            // The move is kept even when it raises the logit: the cells after it may complete it, and the ones not
            // needed are put back at the end.
            foreach (int j in move)
            {
                x[j] = typical[j / length];
                if (!isChosen[j])
                {
                    isChosen[j] = true;
                    chosen.Add(j);
                }
            }

            (scores, explained, gradient) = ScoresAndReceivedGradients(explainer, x, 1);
            evaluations++;
            (bestScore, bestExplained) = (scores[0], explained[0]);
            var best = (float[])x.Clone();
            var bestGradient = gradient;
            for (int step = 0; step < options.StepsPerCell && bestScore >= aim; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double scale = 0.5 * Math.Pow(0.5, step / 4);
                foreach (int j in chosen)
                {
                    int c = j / length;
                    float moved = (float)(x[j] - (Math.Sign(gradient[j]) * scale * (high[c] - low[c])));
                    x[j] = Math.Clamp(moved, low[c], high[c]);
                }

                (scores, explained, gradient) = ScoresAndReceivedGradients(explainer, x, 1);
                evaluations++;
                if (explained[0] < bestExplained)
                {
                    (bestScore, bestExplained) = (scores[0], explained[0]);
                    best = (float[])x.Clone();
                    bestGradient = gradient;
                }
            }

            x = best;
            gradient = bestGradient;
        }

        if (bestScore >= aim)
        {
            return new CounterfactualResult(false, below, before, bestScore, [], received, maxCells, evaluations, reason);
        }

        evaluations += Minimise(received, x, chosen, aim);
        float after = explainer.Score(x, 1)[0];
        evaluations++;
        var changes = new List<CounterfactualChange>();
        for (int j = 0; j < size; j++)
        {
            if (x[j] != received[j])
            {
                changes.Add(new CounterfactualChange(j / length, metadata.Channels[j / length], j % length, received[j], x[j]));
            }
        }

        return new CounterfactualResult(true, below, before, after, changes, x, maxCells, evaluations, null);
    }

    /// <summary>
    /// The move that lowers the explained quantity most per newly changed cell: a run of 1 to <see cref="MaxRun"/>
    /// consecutive steps of one channel (at most <paramref name="budget"/> new cells) set to the channel's typical value
    /// (its median in the window). Every candidate window is evaluated, in one batch; no first-order guess. Runs, not
    /// only single cells, because per-window z-scoring couples a channel's cells: setting back one value of a
    /// three-sample spike makes the other two stand out more, while the whole run removes it; and the gradient alone
    /// points at the quiet channels, whose small spread makes tiny changes look large. Empty when no cell can change.
    /// </summary>
    private (int[] Move, int Tried) BestMove(float[] x, bool[] isChosen, float[] typical, int length, int budget, double current)
    {
        int size = x.Length, channels = size / length;
        var moves = new List<int[]>();
        for (int c = 0; c < channels; c++)
        {
            for (int run = 1; run <= MaxRun; run++)
            {
                for (int t = 0; t + run <= length; t++)
                {
                    var cells = Enumerable.Range((c * length) + t, run).ToArray();
                    int fresh = cells.Count(j => !isChosen[j]);
                    if (fresh > 0 && fresh <= budget && cells.Any(j => x[j] != typical[c]))
                    {
                        moves.Add(cells);
                    }
                }
            }
        }

        if (moves.Count == 0)
        {
            return ([], 0);
        }

        var batch = new float[moves.Count * size];
        for (int k = 0; k < moves.Count; k++)
        {
            var window = batch.AsSpan(k * size, size);
            x.CopyTo(window);
            foreach (int j in moves[k])
            {
                window[j] = typical[j / length];
            }
        }

        var values = explainer.EvaluateModelSpace(explainer.ToModelSpace(batch, moves.Count), moves.Count);
        int best = -1;
        double bestGain = double.NegativeInfinity;
        for (int k = 0; k < moves.Count; k++)
        {
            double gain = (current - values[k]) / moves[k].Count(j => !isChosen[j]);
            if (gain > bestGain)
            {
                (best, bestGain) = (k, gain);
            }
        }

        return (moves[best], moves.Count);
    }

    private static float MedianOf(ReadOnlySpan<float> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return (float)Median(sorted);
    }

    /// <summary>
    /// Makes the found change <paramref name="x"/> minimal, in place: puts back each changed cell (smallest change first)
    /// whose change is not needed to stay below <paramref name="aim"/>, then scales the remaining move to the smallest
    /// fraction that still scores below it. Returns the windows scored.
    /// </summary>
    private int Minimise(float[] received, float[] x, List<int> chosen, double aim)
    {
        int evaluations = 0;
        foreach (int j in chosen.OrderBy(j => Math.Abs(x[j] - received[j])).ThenBy(j => j))
        {
            if (x[j] == received[j] || chosen.Count(k => x[k] != received[k]) == 1)
            {
                continue;
            }

            float kept = x[j];
            x[j] = received[j];
            evaluations++;
            if (explainer.Score(x, 1)[0] >= aim)
            {
                x[j] = kept;
            }
        }

        // Two rounds of ScalePoints fractions: the smallest passing one of (0, 1], then within the step below it.
        double lowFraction = 0, highFraction = 1;
        for (int round = 0; round < 2; round++)
        {
            var fractions = Enumerable.Range(1, ScalePoints).Select(k => lowFraction + ((highFraction - lowFraction) * k / ScalePoints)).ToArray();
            int size = x.Length;
            var batch = new float[ScalePoints * size];
            for (int k = 0; k < ScalePoints; k++)
            {
                Scaled(received, x, fractions[k], batch.AsSpan(k * size, size));
            }

            var scores = explainer.Score(batch, ScalePoints);
            evaluations += ScalePoints;
            int first = Array.FindIndex(scores, s => s < aim);
            if (first < 0)
            {
                break; // only the full move passes at this resolution (it did pass: it was found below aim)
            }

            highFraction = fractions[first];
            lowFraction = first == 0 ? lowFraction : fractions[first - 1];
        }

        if (highFraction < 1)
        {
            var scaled = new float[x.Length];
            Scaled(received, x, highFraction, scaled);
            scaled.CopyTo(x, 0);
        }

        return evaluations;
    }

    /// <summary>received + fraction (x - received), exactly the received value where x did not change it.</summary>
    private static void Scaled(float[] received, float[] x, double fraction, Span<float> into)
    {
        for (int j = 0; j < x.Length; j++)
        {
            into[j] = x[j] == received[j] ? received[j] : (float)(received[j] + (fraction * (x[j] - received[j])));
        }
    }
}
