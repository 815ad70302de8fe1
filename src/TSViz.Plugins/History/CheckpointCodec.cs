using System.Buffers.Binary;
using TSViz.Plugins.Windows;

namespace TSViz.Plugins.History;

/// <summary>
/// A machine's partial window as the bytes of a machine_checkpoints row, little-endian:
/// version (1 byte), flags (1 byte: bit 0 = per-sample UTC offsets follow the times), sample count (int32),
/// value count (int32), samples since the last window (int32), windows emitted (int64), each sample's UTC ticks
/// (int64), when flagged each sample's offset in minutes (int16), then the values (float32 bits, exact).
/// The machine id is the row's key, not part of the blob. Samples are nearly always UTC, so offsets cost nothing then.
/// </summary>
internal static class CheckpointCodec
{
    public const byte Version = 1;
    private const byte HasOffsets = 1;
    private const int HeaderLength = 1 + 1 + 4 + 4 + 4 + 8;

    public static byte[] Encode(WindowCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var times = checkpoint.Times ?? throw new ArgumentException($"The checkpoint of machine '{checkpoint.Machine}' has no times.", nameof(checkpoint));
        var values = checkpoint.Values ?? throw new ArgumentException($"The checkpoint of machine '{checkpoint.Machine}' has no values.", nameof(checkpoint));
        bool whole = times.Length == 0 ? values.Length == 0 : values.Length % times.Length == 0;
        if (!whole || checkpoint.SinceEmit < 0 || checkpoint.Emitted < 0)
        {
            throw new ArgumentException(
                $"The checkpoint of machine '{checkpoint.Machine}' is inconsistent: {times.Length} times, {values.Length} values, {checkpoint.SinceEmit} since the last window, {checkpoint.Emitted} emitted.",
                nameof(checkpoint));
        }

        bool offsets = Array.Exists(times, t => t.Offset != TimeSpan.Zero);
        var bytes = new byte[HeaderLength + (times.Length * (offsets ? 10 : 8)) + (values.Length * 4)];
        var span = bytes.AsSpan();
        span[0] = Version;
        span[1] = offsets ? HasOffsets : (byte)0;
        BinaryPrimitives.WriteInt32LittleEndian(span[2..], times.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[6..], values.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span[10..], checkpoint.SinceEmit);
        BinaryPrimitives.WriteInt64LittleEndian(span[14..], checkpoint.Emitted);
        int at = HeaderLength;
        foreach (var t in times)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], t.UtcTicks);
            at += 8;
        }

        if (offsets)
        {
            foreach (var t in times)
            {
                BinaryPrimitives.WriteInt16LittleEndian(span[at..], (short)t.TotalOffsetMinutes);
                at += 2;
            }
        }

        foreach (float v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span[at..], v);
            at += 4;
        }

        return bytes;
    }

    /// <summary>Reads a stored checkpoint; false for bytes of another version or a damaged row.</summary>
    public static bool TryDecode(string machine, ReadOnlySpan<byte> bytes, out WindowCheckpoint? checkpoint)
    {
        checkpoint = null;
        if (bytes.Length < HeaderLength || bytes[0] != Version || (bytes[1] & ~HasOffsets) != 0)
        {
            return false;
        }

        bool offsets = bytes[1] == HasOffsets;
        int samples = BinaryPrimitives.ReadInt32LittleEndian(bytes[2..]);
        int valueCount = BinaryPrimitives.ReadInt32LittleEndian(bytes[6..]);
        int sinceEmit = BinaryPrimitives.ReadInt32LittleEndian(bytes[10..]);
        long emitted = BinaryPrimitives.ReadInt64LittleEndian(bytes[14..]);
        if (samples < 0 || valueCount < 0 || sinceEmit < 0 || emitted < 0
            || (samples == 0 ? valueCount != 0 : valueCount % samples != 0)
            || bytes.Length != HeaderLength + ((long)samples * (offsets ? 10 : 8)) + ((long)valueCount * 4))
        {
            return false;
        }

        var times = new DateTimeOffset[samples];
        int at = HeaderLength;
        int offsetsAt = HeaderLength + (samples * 8);
        for (int i = 0; i < samples; i++)
        {
            long ticks = BinaryPrimitives.ReadInt64LittleEndian(bytes[at..]);
            at += 8;
            var offset = offsets ? TimeSpan.FromMinutes(BinaryPrimitives.ReadInt16LittleEndian(bytes[(offsetsAt + (i * 2))..])) : TimeSpan.Zero;
            if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks || offset.Duration() > TimeSpan.FromHours(14))
            {
                return false;
            }

            long local = ticks + offset.Ticks;
            if (local < DateTime.MinValue.Ticks || local > DateTime.MaxValue.Ticks)
            {
                return false;
            }

            times[i] = new DateTimeOffset(local, offset);
        }

        at = offsetsAt + (offsets ? samples * 2 : 0);
        var values = new float[valueCount];
        for (int i = 0; i < valueCount; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[at..]);
            at += 4;
        }

        checkpoint = new WindowCheckpoint(machine, times, values, sinceEmit, emitted);
        return true;
    }
}
