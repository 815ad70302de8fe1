namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// One machine as the monitor's edge node publishes it: its device id, the aliases of its metrics (a block unique in the
/// edge node, kept for the device's life) and the last value of each metric, with the time it took it.
/// </summary>
internal sealed class EdgeDevice
{
    private readonly SparkplugMetric[] current;

    public EdgeDevice(string machine, ulong firstAlias, IReadOnlyList<SparkplugMetric> values)
    {
        Machine = machine;
        DeviceId = SparkplugTopic.EscapeId(machine);
        current = [.. values.Select((metric, i) => metric with { Alias = firstAlias + (ulong)i })];
    }

    public string Machine { get; }

    public string DeviceId { get; }

    /// <summary>Every metric with name, alias, timestamp, datatype and value: a DBIRTH's metrics.</summary>
    public IReadOnlyList<SparkplugMetric> Metrics => current;

    /// <summary>
    /// Takes the report's values (same metrics, same order) and returns those that changed, by alias without name (a
    /// DDATA's metrics); the unchanged keep the time they took their value.
    /// </summary>
    public List<SparkplugMetric> Update(IReadOnlyList<SparkplugMetric> values)
    {
        var changed = new List<SparkplugMetric>();
        for (int i = 0; i < current.Length; i++)
        {
            var next = values[i] with { Alias = current[i].Alias };
            if (next != current[i] with { Timestamp = next.Timestamp })
            {
                current[i] = next;
                changed.Add(next with { Name = null });
            }
        }

        return changed;
    }
}
