using TSViz.Explain.Onnx;

namespace TSViz.Plugins.Scoring;

/// <summary>Scores preprocessed windows with the deployed model.</summary>
public interface IWindowScorer : IDisposable
{
    /// <summary>What the deployed model declares.</summary>
    ModelMetadata Metadata { get; }

    /// <summary>
    /// Scores <paramref name="count"/> windows laid out channel-major (count x channels x length), already
    /// preprocessed as the metadata declares; writes one score per window.
    /// </summary>
    void Score(ReadOnlySpan<float> windows, int count, Span<float> scores);
}
