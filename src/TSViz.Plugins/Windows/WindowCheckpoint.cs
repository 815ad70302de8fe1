namespace TSViz.Plugins.Windows;

/// <summary>
/// One machine's partial window, as the assembler holds it between two windows: the last samples (oldest first,
/// at most the window length), how many samples arrived since the last window and how many windows were emitted.
/// Stored with the history write that covers the input it came from, so a monitor killed at any moment resumes
/// the machine's window where the broker's redelivery continues it.
/// </summary>
/// <param name="Machine">The machine id.</param>
/// <param name="Times">Timestamps of the buffered samples, oldest first.</param>
/// <param name="Values">Their values, sample-major: sample i, channel c at i * channels + c.</param>
/// <param name="SinceEmit">Samples accepted since the machine's last window.</param>
/// <param name="Emitted">Windows emitted since the machine's buffer last (re)started.</param>
public sealed record WindowCheckpoint(string Machine, DateTimeOffset[] Times, float[] Values, int SinceEmit, long Emitted)
{
    /// <summary>The newest buffered sample's time (null for an empty buffer).</summary>
    public DateTimeOffset? Last => Times.Length > 0 ? Times[^1] : null;
}
