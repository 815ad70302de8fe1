using TSViz.Explain.Data;
using TSViz.Explain.Graph;

namespace TSViz.Explain.Evaluation;

/// <summary>
/// The perturbations infidelity is measured on, drawn once so every method is scored on the same ones: for each of
/// <see cref="Count"/> windows, <see cref="Samples"/> noise vectors I (channel-major, model input space) and the
/// change of the explained quantity they cause, f(x) - f(x - I).
/// </summary>
/// <param name="Count">Windows.</param>
/// <param name="Samples">Perturbations per window.</param>
/// <param name="Size">Cells per window (channels x length).</param>
/// <param name="Noise">I, [window][sample][cell] flattened.</param>
/// <param name="Drop">f(x) - f(x - I), [window][sample] flattened.</param>
public sealed record InfidelityPerturbations(int Count, int Samples, int Size, float[] Noise, double[] Drop);

/// <summary>
/// Infidelity (Yeh et al. 2019, as Captum's captum.metrics.infidelity computes it): for perturbations I of the
/// input, INFD(A, f, x) = E_I[(I . A - (f(x) - f(x - I)))^2], the mean over the drawn I. An attribution that is the
/// model's exact linear response (the gradient of a linear model) scores 0. Normalised (Captum's normalize=True),
/// A is first scaled by the beta that minimises the error, beta = E[(I . A) dF] / E[(I . A)^2], so a method is not
/// penalised for a constant factor. Here I ~ N(0, sigma^2) independently in every cell of the model's input space.
/// </summary>
public static class Infidelity
{
    /// <summary>
    /// Draws <paramref name="samples"/> Gaussian perturbations of standard deviation <paramref name="sigma"/> per
    /// window (seeded) and evaluates f(x) - f(x - I) on the deployed weights, batched. <paramref name="modelInput"/>
    /// holds <paramref name="count"/> windows in the model's input space.
    /// </summary>
    public static InfidelityPerturbations Perturb(
        Explainer explainer, float[] modelInput, int count, double sigma, int samples, int seed, GradientTarget target = GradientTarget.Auto, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        ArgumentNullException.ThrowIfNull(modelInput);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sigma);
        explainer.CheckSize(modelInput, count);
        int size = modelInput.Length / count;
        var random = new GaussianRandom(seed);
        var noise = new float[count * samples * size];
        var perturbed = new float[count * samples * size];
        for (int w = 0; w < count; w++)
        {
            var window = modelInput.AsSpan(w * size, size);
            for (int k = 0; k < samples; k++)
            {
                int offset = ((w * samples) + k) * size;
                for (int i = 0; i < size; i++)
                {
                    float n = (float)random.Normal(0, sigma);
                    noise[offset + i] = n;
                    perturbed[offset + i] = window[i] - n;
                }
            }
        }

        var at = explainer.EvaluateModelSpace(modelInput, count, target, cancellationToken: cancellationToken);
        var after = explainer.EvaluateModelSpace(perturbed, count * samples, target, cancellationToken: cancellationToken);
        var drop = new double[count * samples];
        for (int j = 0; j < drop.Length; j++)
        {
            drop[j] = at[j / samples] - after[j];
        }

        return new InfidelityPerturbations(count, samples, size, noise, drop);
    }

    /// <summary>
    /// Each window's infidelity of <paramref name="attributions"/> (one per window, channel-major, model input space)
    /// on the drawn perturbations; normalised as Captum's normalize=True when <paramref name="normalize"/>.
    /// </summary>
    public static double[] Score(InfidelityPerturbations perturbations, IReadOnlyList<float[]> attributions, bool normalize)
    {
        ArgumentNullException.ThrowIfNull(perturbations);
        ArgumentNullException.ThrowIfNull(attributions);
        int count = perturbations.Count, samples = perturbations.Samples, size = perturbations.Size;
        if (attributions.Count != count)
        {
            throw new ArgumentException($"Expected one attribution per window ({count}), got {attributions.Count}.", nameof(attributions));
        }

        var scores = new double[count];
        var dot = new double[samples];
        for (int w = 0; w < count; w++)
        {
            var a = attributions[w];
            if (a.Length != size)
            {
                throw new ArgumentException($"Window {w}'s attribution has {a.Length} cells, expected {size}.", nameof(attributions));
            }

            double cross = 0, square = 0;
            for (int k = 0; k < samples; k++)
            {
                var noise = perturbations.Noise.AsSpan(((w * samples) + k) * size, size);
                double d = 0;
                for (int i = 0; i < size; i++)
                {
                    d += (double)noise[i] * a[i];
                }

                dot[k] = d;
                cross += d * perturbations.Drop[(w * samples) + k];
                square += d * d;
            }

            // Captum's safe division: a zero attribution keeps beta at 1 rather than dividing by zero.
            double beta = normalize && square > 0 ? cross / square : 1.0;
            double sum = 0;
            for (int k = 0; k < samples; k++)
            {
                double error = (beta * dot[k]) - perturbations.Drop[(w * samples) + k];
                sum += error * error;
            }

            scores[w] = sum / samples;
        }

        return scores;
    }
}
