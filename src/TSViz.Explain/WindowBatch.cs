namespace TSViz.Explain;

/// <summary>
/// Windows as received, before the model's preprocessing, stored one after another and channel-major: window i,
/// channel c, step t is <c>Values[(i * channels + c) * length + t]</c>. The values are read, never changed.
/// </summary>
/// <param name="Values">Exactly <paramref name="Count"/> x channels x window length values.</param>
/// <param name="Count">How many windows <paramref name="Values"/> holds (at least 1).</param>
public readonly record struct WindowBatch(ReadOnlyMemory<float> Values, int Count)
{
    /// <summary>A batch of the single window <paramref name="window"/> (channel-major).</summary>
    public static WindowBatch One(ReadOnlyMemory<float> window) => new(window, 1);
}
