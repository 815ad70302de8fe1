using TSViz.Plugins.Ingest;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// One machine's samples from one received message, as the node that received and decoded it hands them to the
/// machine's owner: timestamps (UTC ticks) and the values flattened sample by sample, <see cref="Channels"/> each.
/// </summary>
[GenerateSerializer, Immutable, Alias("tsviz.MachineSamples")]
public sealed record MachineSamples(
    [property: Id(0)] string Machine,
    [property: Id(1)] string Topic,
    [property: Id(2)] long[] TimestampTicks,
    [property: Id(3)] float[] Values,
    [property: Id(4)] int Channels,
    [property: Id(5)] bool Redelivered)
{
    /// <summary>The samples of <paramref name="machine"/> among <paramref name="samples"/> (all of one message).</summary>
    public static MachineSamples Of(string machine, string topic, IEnumerable<Sample> samples, bool redelivered)
    {
        var mine = samples.Where(s => s.Machine == machine).ToList();
        int channels = mine.Count == 0 ? 0 : mine[0].Values.Length;
        var values = new float[mine.Count * channels];
        for (int i = 0; i < mine.Count; i++)
        {
            mine[i].Values.CopyTo(values, i * channels);
        }

        return new MachineSamples(machine, topic, [.. mine.Select(s => s.Timestamp.UtcTicks)], values, channels, redelivered);
    }

    /// <summary>The samples again, in the order they came.</summary>
    public IEnumerable<Sample> Samples()
    {
        for (int i = 0; i < TimestampTicks.Length; i++)
        {
            yield return new Sample(Machine, new DateTimeOffset(TimestampTicks[i], TimeSpan.Zero), Values.AsSpan(i * Channels, Channels).ToArray());
        }
    }
}
