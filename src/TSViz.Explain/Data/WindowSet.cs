namespace TSViz.Explain.Data;

/// <summary>
/// A batch of windows with their targets, stored flat and channel-major: window i, channel c, step t is
/// <c>Values[(i * Channels + c) * Length + t]</c>.
/// </summary>
/// <param name="Values">The windows, flat and channel-major.</param>
/// <param name="Targets">One target per window: a label (0 or 1) or the value to forecast.</param>
/// <param name="Channels">Channels per window.</param>
/// <param name="Length">Steps per window.</param>
public sealed record WindowSet(float[] Values, float[] Targets, int Channels, int Length)
{
    /// <summary>How many windows the set holds.</summary>
    public int Count => Targets.Length;

    /// <summary>The windows [start, start + count) as a new set (copies).</summary>
    public WindowSet Slice(int start, int count)
    {
        int size = Channels * Length;
        return new WindowSet(
            Values.AsSpan(start * size, count * size).ToArray(),
            Targets.AsSpan(start, count).ToArray(),
            Channels,
            Length);
    }

    /// <summary>One window's values (channel-major).</summary>
    public ReadOnlySpan<float> Window(int index) => Values.AsSpan(index * Channels * Length, Channels * Length);
}
