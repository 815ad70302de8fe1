using TSViz.Plugins.Ingest;

namespace TSViz.Plugins.Windows;

/// <summary>
/// How windows are cut from each machine's stream. <see cref="WindowAssembler"/> checks them when it is made.
/// </summary>
public sealed record WindowSettings
{
    /// <summary>Samples per window: the model's window length (at least 2).</summary>
    public required int Length { get; init; }

    /// <summary>
    /// A window is emitted every this many samples once the first is full (at least 1; default 10). With a hop below
    /// <see cref="Length"/>, consecutive windows of a machine share <see cref="Length"/> - <see cref="Hop"/> samples.
    /// </summary>
    public int Hop { get; init; } = 10;

    /// <summary>A longer silence between two samples starts the window afresh (the old samples are not contiguous).</summary>
    public TimeSpan MaxGap { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>A full window of one machine, channel-major (channel c, step t at c * length + t).</summary>
/// <param name="Machine">The machine id of the samples.</param>
/// <param name="Start">The time of the window's first (oldest) sample.</param>
/// <param name="End">The time of its last sample, the one that completed it.</param>
/// <param name="Values">
/// The raw sample values (not preprocessed), channels x <see cref="WindowSettings.Length"/>, channel-major; the
/// array is the window's own.
/// </param>
public sealed record AssembledWindow(string Machine, DateTimeOffset Start, DateTimeOffset End, float[] Values);

/// <summary>What became of a sample.</summary>
public enum SampleOutcome
{
    /// <summary>
    /// Later than the machine's previous sample and within the gap limit (or its first): added to its buffer.
    /// </summary>
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

    /// <summary>Makes an assembler that holds no machine yet.</summary>
    /// <param name="settings">The window length, hop and gap limit.</param>
    /// <param name="channels">
    /// Values per sample: the model's channel count; every sample must carry exactly this many.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="settings"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <see cref="WindowSettings.Length"/> is less than 2, <see cref="WindowSettings.Hop"/> less than 1,
    /// <see cref="WindowSettings.MaxGap"/> not positive, or <paramref name="channels"/> less than 1.
    /// </exception>
    public WindowAssembler(WindowSettings settings, int channels)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Length, 2, nameof(settings));
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Hop, 1, nameof(settings));
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        // A gap limit of zero or less would reset every machine on each sample after its first: no window would complete.
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(settings.MaxGap, TimeSpan.Zero, nameof(settings));
        this.settings = settings;
        this.channels = channels;
    }

    /// <summary>Machines held now: those with a buffer, not since removed (<see cref="Remove"/>).</summary>
    public int Machines => machines.Count;

    /// <summary>The ids of the machines held, as a snapshot: removing machines while going through it is safe.</summary>
    public IReadOnlyCollection<string> MachineIds => [.. machines.Keys];

    /// <summary>The latest accepted sample time of <paramref name="machine"/>, if it has one.</summary>
    public DateTimeOffset? LastTimestamp(string machine)
        => machines.TryGetValue(machine, out var buffer) && buffer.Count > 0 ? buffer.Last : null;

    /// <summary>How many more samples <paramref name="machine"/> needs before its next window.</summary>
    public int SamplesUntilNextWindow(string machine)
        => machines.TryGetValue(machine, out var buffer) ? buffer.Remaining(settings) : settings.Length;

    /// <summary>
    /// The buffer of <paramref name="machine"/> as it stands (a copy), or null for a machine the assembler does not
    /// hold. <see cref="Restore"/> on an assembler of the same settings continues it exactly.
    /// </summary>
    public WindowCheckpoint? Checkpoint(string machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return machines.TryGetValue(machine, out var buffer) ? buffer.Checkpoint(machine) : null;
    }

    /// <summary>
    /// Replaces the buffer of the checkpoint's machine (known or not) with the checkpoint's samples and counters.
    /// A checkpoint that this assembler could not have produced (more samples than the window length, values that
    /// are not one per channel per sample, times not strictly increasing, negative counters) is refused with an
    /// <see cref="ArgumentException"/>, and the assembler is left as it was.
    /// </summary>
    public void Restore(WindowCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        Validate(checkpoint);
        var buffer = new MachineBuffer(settings.Length, channels);
        buffer.Load(checkpoint);
        machines[checkpoint.Machine] = buffer;
    }

    /// <summary>Forgets <paramref name="machine"/> and its buffer (an idle machine's eviction); false if it was not held.</summary>
    public bool Remove(string machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return machines.Remove(machine);
    }

    /// <summary>
    /// Adds a sample to its machine's buffer (a machine not held yet starts one); a window it completes is added to
    /// <paramref name="completed"/>. A sample not later than the machine's previous one changes nothing.
    /// </summary>
    /// <param name="sample">The sample; its machine's samples come in time order.</param>
    /// <param name="completed">Receives the window the sample completes, if any (at most one per call).</param>
    /// <returns>Whether the sample was taken, and whether it restarted the machine after a gap.</returns>
    /// <exception cref="ArgumentException">The sample does not carry one value per channel.</exception>
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

    private void Validate(WindowCheckpoint checkpoint)
    {
        string machine = checkpoint.Machine;
        if (string.IsNullOrEmpty(machine))
        {
            throw new ArgumentException("A window checkpoint has no machine id.", nameof(checkpoint));
        }

        if (checkpoint.Times is null || checkpoint.Values is null)
        {
            throw new ArgumentException($"The window checkpoint of '{machine}' has no {(checkpoint.Times is null ? "times" : "values")}.", nameof(checkpoint));
        }

        int samples = checkpoint.Times.Length;
        if (samples > settings.Length)
        {
            throw new ArgumentException($"The window checkpoint of '{machine}' holds {samples} samples, more than the window length {settings.Length}.", nameof(checkpoint));
        }

        if (checkpoint.Values.Length != samples * channels)
        {
            throw new ArgumentException(
                $"The window checkpoint of '{machine}' has {checkpoint.Values.Length} values for {samples} samples of {channels} channels ({samples * channels} expected).",
                nameof(checkpoint));
        }

        for (int i = 1; i < samples; i++)
        {
            if (checkpoint.Times[i] <= checkpoint.Times[i - 1])
            {
                throw new ArgumentException(
                    $"The window checkpoint of '{machine}' has times out of order: sample {i} at {checkpoint.Times[i]:O} is not later than sample {i - 1} at {checkpoint.Times[i - 1]:O}.",
                    nameof(checkpoint));
            }
        }

        if (checkpoint.SinceEmit < 0 || checkpoint.Emitted < 0)
        {
            throw new ArgumentException(
                $"The window checkpoint of '{machine}' has negative counters (SinceEmit {checkpoint.SinceEmit}, Emitted {checkpoint.Emitted}).", nameof(checkpoint));
        }
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

        public WindowCheckpoint Checkpoint(string machine)
        {
            var checkpointTimes = new DateTimeOffset[Count];
            var checkpointValues = new float[Count * channels];
            int oldest = (next - Count + length) % length;
            for (int i = 0; i < Count; i++)
            {
                int slot = (oldest + i) % length;
                checkpointTimes[i] = times[slot];
                Array.Copy(values, slot * channels, checkpointValues, i * channels, channels);
            }

            return new WindowCheckpoint(machine, checkpointTimes, checkpointValues, SinceEmit, Emitted);
        }

        // The samples go to slots 0..n-1, oldest first, so `next` (the slot of the oldest once full) is n modulo the length.
        public void Load(WindowCheckpoint checkpoint)
        {
            int samples = checkpoint.Times.Length;
            Array.Copy(checkpoint.Times, times, samples);
            Array.Copy(checkpoint.Values, values, samples * channels);
            Count = samples;
            next = samples % length;
            SinceEmit = checkpoint.SinceEmit;
            Emitted = checkpoint.Emitted;
            Last = samples > 0 ? checkpoint.Times[^1] : default;
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
