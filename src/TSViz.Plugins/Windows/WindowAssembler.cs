using TSViz.Plugins.Ingest;

namespace TSViz.Plugins.Windows;

/// <summary>How windows are cut from each machine's stream.</summary>
public sealed record WindowSettings
{
    /// <summary>Samples per window: the model's window length.</summary>
    public required int Length { get; init; }

    /// <summary>A window is emitted every this many samples once the first is full.</summary>
    public int Hop { get; init; } = 10;

    /// <summary>A longer silence between two samples starts the window afresh (the old samples are not contiguous).</summary>
    public TimeSpan MaxGap { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>A full window of one machine, channel-major (channel c, step t at c * length + t).</summary>
public sealed record AssembledWindow(string Machine, DateTimeOffset Start, DateTimeOffset End, float[] Values);

/// <summary>What became of a sample.</summary>
public enum SampleOutcome
{
    Accepted,

    /// <summary>Not later than the machine's previous sample: dropped (and counted).</summary>
    OutOfOrder,

    /// <summary>Accepted after a gap longer than the limit; the machine's earlier samples were discarded.</summary>
    AcceptedAfterGap,
}

/// <summary>
/// Per-machine sliding windows over the sample stream: a ring buffer of the window length, a window every
/// <see cref="WindowSettings.Hop"/> samples, out-of-order samples dropped, a gap resets the machine. Not thread-safe:
/// one assembler serves one ingest loop.
/// </summary>
public sealed class WindowAssembler
{
    private readonly WindowSettings settings;
    private readonly int channels;
    private readonly Dictionary<string, MachineBuffer> machines = new(StringComparer.Ordinal);

    public WindowAssembler(WindowSettings settings, int channels)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Length, 2, nameof(settings));
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Hop, 1, nameof(settings));
        this.settings = settings;
        this.channels = channels;
    }

    /// <summary>Machines seen so far.</summary>
    public int Machines => machines.Count;

    /// <summary>The latest accepted sample time of <paramref name="machine"/>, if it has one.</summary>
    public DateTimeOffset? LastTimestamp(string machine)
        => machines.TryGetValue(machine, out var buffer) && buffer.Count > 0 ? buffer.Last : null;

    /// <summary>How many more samples <paramref name="machine"/> needs before its next window.</summary>
    public int SamplesUntilNextWindow(string machine)
        => machines.TryGetValue(machine, out var buffer) ? buffer.Remaining(settings) : settings.Length;

    /// <summary>Adds a sample; a window it completes is added to <paramref name="completed"/>.</summary>
    public SampleOutcome Add(Sample sample, ICollection<AssembledWindow> completed)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(completed);
        if (sample.Values.Length != channels)
        {
            throw new ArgumentException($"A sample has {sample.Values.Length} values; the windows have {channels} channels.", nameof(sample));
        }

        if (!machines.TryGetValue(sample.Machine, out var buffer))
        {
            machines[sample.Machine] = buffer = new MachineBuffer(settings.Length, channels);
        }

        var outcome = SampleOutcome.Accepted;
        if (buffer.Count > 0)
        {
            if (sample.Timestamp <= buffer.Last)
            {
                return SampleOutcome.OutOfOrder;
            }

            if (sample.Timestamp - buffer.Last > settings.MaxGap)
            {
                buffer.Reset();
                outcome = SampleOutcome.AcceptedAfterGap;
            }
        }

        buffer.Push(sample);
        if (buffer.Count >= settings.Length && (buffer.Emitted == 0 || buffer.SinceEmit >= settings.Hop))
        {
            completed.Add(buffer.Window(sample.Machine));
        }

        return outcome;
    }

    private sealed class MachineBuffer(int length, int channels)
    {
        private readonly float[] values = new float[length * channels];
        private readonly DateTimeOffset[] times = new DateTimeOffset[length];
        private int next;

        public int Count { get; private set; }

        public int SinceEmit { get; private set; }

        public long Emitted { get; private set; }

        public DateTimeOffset Last { get; private set; }

        public int Remaining(WindowSettings settings)
            => Count < length ? length - Count : Math.Max(0, settings.Hop - SinceEmit);

        public void Push(Sample sample)
        {
            times[next] = sample.Timestamp;
            for (int c = 0; c < channels; c++)
            {
                values[(next * channels) + c] = sample.Values[c];
            }

            next = (next + 1) % length;
            Count = Math.Min(Count + 1, length);
            SinceEmit++;
            Last = sample.Timestamp;
        }

        public void Reset()
        {
            Count = 0;
            next = 0;
            SinceEmit = 0;
            Emitted = 0;
        }

        public AssembledWindow Window(string machine)
        {
            // The oldest sample sits at `next` once the buffer is full.
            var window = new float[channels * length];
            for (int t = 0; t < length; t++)
            {
                int slot = (next + t) % length;
                for (int c = 0; c < channels; c++)
                {
                    window[(c * length) + t] = values[(slot * channels) + c];
                }
            }

            SinceEmit = 0;
            Emitted++;
            return new AssembledWindow(machine, times[next], times[(next + length - 1) % length], window);
        }
    }
}
