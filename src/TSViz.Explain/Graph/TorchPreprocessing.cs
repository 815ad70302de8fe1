using TSViz.Explain.Data;
using static TorchSharp.torch;

namespace TSViz.Explain.Graph;

/// <summary>The model's declared preprocessing as differentiable tensor operations (same as <see cref="WindowPreprocessing"/>).</summary>
internal static class TorchPreprocessing
{
    /// <summary>
    /// The model input for a batch of received windows (N x C x L), and for z-scoring the per-channel standard
    /// deviation used (N x C x 1); for "none" the input itself and no scale.
    /// </summary>
    public static (Tensor Input, Tensor? Std) ApplyWithScale(string preprocessing, Tensor received)
    {
        if (preprocessing != WindowPreprocessing.ZScorePerChannel)
        {
            return (Apply(preprocessing, received), null);
        }

        var centered = received - received.mean([2], keepdim: true);
        var std = centered.square().mean([2], keepdim: true).sqrt().clamp_min(WindowPreprocessing.MinStd);
        return (centered / std, std);
    }

    /// <summary>
    /// The gradient with respect to the received window from the gradient g with respect to the z-scored window
    /// x = (r - mean(r)) / std(r), per channel: (g - mean(g) - x mean(g x)) / std. Closed form, so explanations
    /// need no second backward pass through the preprocessing.
    /// </summary>
    public static Tensor ZScoreInputGradient(Tensor gradient, Tensor modelInput, Tensor std)
        => (gradient - gradient.mean([2], keepdim: true) - (modelInput * (gradient * modelInput).mean([2], keepdim: true))) / std;

    /// <summary>Returns the model input for a batch of received windows (N x C x L); the input itself for "none".</summary>
    public static Tensor Apply(string preprocessing, Tensor received)
    {
        switch (preprocessing)
        {
            case WindowPreprocessing.None:
                return received;
            case WindowPreprocessing.ZScorePerChannel:
                var mean = received.mean([2], keepdim: true);
                var centered = received - mean;
                var std = centered.square().mean([2], keepdim: true).sqrt().clamp_min(WindowPreprocessing.MinStd);
                return centered / std;
            default:
                throw new ArgumentException($"Unknown preprocessing '{preprocessing}'; known: {string.Join(", ", WindowPreprocessing.Known)}.", nameof(preprocessing));
        }
    }
}
