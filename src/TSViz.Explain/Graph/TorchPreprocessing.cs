using TorchSharp;
using TSViz.Explain.Data;
using TSViz.Explain.Runtime;
using static TorchSharp.torch;

namespace TSViz.Explain.Graph;

/// <summary>The model's declared preprocessing as differentiable tensor operations (same as <see cref="WindowPreprocessing"/>).</summary>
internal static class TorchPreprocessing
{
    /// <summary>Held for the process, never converted per call (see <see cref="HeldScalars"/>).</summary>
    private static readonly Scalar MinStd = WindowPreprocessing.MinStd.ToScalar();

    /// <summary>Returns the model input for a batch of received windows (N x C x L); the input itself for "none".</summary>
    public static Tensor Apply(string preprocessing, Tensor received)
    {
        switch (preprocessing)
        {
            case WindowPreprocessing.None:
                return received;
            case WindowPreprocessing.ZScorePerChannel:
                var mean = received.mean([2], keepdim: true);
                var centered = received.add(mean, HeldScalars.MinusOne);
                var std = centered.pow(HeldScalars.Two).mean([2], keepdim: true).sqrt().clamp_min(MinStd);
                return centered / std;
            default:
                throw new ArgumentException($"Unknown preprocessing '{preprocessing}'; known: {string.Join(", ", WindowPreprocessing.Known)}.", nameof(preprocessing));
        }
    }
}
