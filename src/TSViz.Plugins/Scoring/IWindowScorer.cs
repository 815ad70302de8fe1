using TSViz.Explain.Onnx;

namespace TSViz.Plugins.Scoring;

/// <summary>
/// Scores preprocessed windows with the deployed model. Implementations are safe to call from several threads; a
/// scorer owns the model it loaded and releases it on <see cref="IDisposable.Dispose"/>, after which it must not be
/// called.
/// </summary>
public interface IWindowScorer : IDisposable
{
    /// <summary>What the deployed model declares.</summary>
    ModelMetadata Metadata { get; }

    /// <summary>
    /// Scores <paramref name="count"/> windows laid out channel-major (count x channels x length), already
    /// preprocessed as the metadata declares; writes one score per window.
    /// </summary>
    /// <param name="windows">
    /// The windows, one after another: window w, channel c, step t at (w * channels + c) * length + t, where
    /// channels and length are those of <see cref="Metadata"/>.
    /// </param>
    /// <param name="count">How many windows <paramref name="windows"/> holds.</param>
    /// <param name="scores">
    /// Receives the score of window w at index w (the model's <c>score</c> output; its kind is
    /// <see cref="ModelMetadata.OutputKind"/>); entries past <paramref name="count"/> are left as they were.
    /// </param>
    /// <exception cref="ArgumentException">
    /// <paramref name="windows"/> does not hold exactly <paramref name="count"/> windows of the model's shape, or
    /// <paramref name="scores"/> is shorter than <paramref name="count"/>.
    /// </exception>
    void Score(ReadOnlySpan<float> windows, int count, Span<float> scores);
}
