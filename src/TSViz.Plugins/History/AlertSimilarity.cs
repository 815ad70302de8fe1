namespace TSViz.Plugins.History;

/// <summary>
/// "Has this happened before": how alike two alerts' explanations are. Signatures are the peak window's saliency
/// pattern followed by every filter's scaled influence (<see cref="AlertRecord.Signature"/>); the similarity is the
/// mean of the cosine similarities of the two parts, so neither dominates by its length.
/// </summary>
public static class AlertSimilarity
{
    /// <summary>
    /// The candidates of the same signature layout as <paramref name="target"/>, most similar first, at most
    /// <paramref name="limit"/> (clamped to 1..100).
    /// </summary>
    public static IReadOnlyList<SimilarAlert> Rank(AlertRecord target, IEnumerable<AlertRecord> candidates, int limit)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(candidates);
        return candidates
            .Where(c => c.Signature.Length == target.Signature.Length && c.SignatureSaliencyLength == target.SignatureSaliencyLength)
            .Select(c => new SimilarAlert(c, Similarity(target, c)))
            .OrderByDescending(s => s.Similarity)
            .Take(Math.Clamp(limit, 1, 100))
            .ToList();
    }

    /// <summary>
    /// The mean of the cosine similarities of the two parts of the signatures: where the model looked (the saliency
    /// pattern) and which filters carried the decision (influence). Both signatures share one layout.
    /// </summary>
    public static double Similarity(AlertRecord a, AlertRecord b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int split = a.SignatureSaliencyLength;
        double saliency = Cosine(a.Signature.AsSpan(0, split), b.Signature.AsSpan(0, split));
        if (split == a.Signature.Length)
        {
            return saliency;
        }

        double influence = Cosine(a.Signature.AsSpan(split), b.Signature.AsSpan(split));
        return (saliency + influence) / 2;
    }

    /// <summary>cos(x, y) = x.y / (|x| |y|); 0 when either vector is all zeros.</summary>
    public static double Cosine(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"The vectors differ in length ({x.Length} and {y.Length}).", nameof(y));
        }

        double dot = 0, nx = 0, ny = 0;
        for (int i = 0; i < x.Length; i++)
        {
            dot += (double)x[i] * y[i];
            nx += (double)x[i] * x[i];
            ny += (double)y[i] * y[i];
        }

        return nx == 0 || ny == 0 ? 0 : dot / Math.Sqrt(nx * ny);
    }
}
