using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace TSViz.Plugins.Sparkplug;

/// <summary>A metric as a birth declared it, and the channel it feeds (-1 for none).</summary>
internal sealed record BirthMetric(string Name, SparkplugDataType? DataType, int Channel);

/// <summary>
/// What the decoder knows of one edge node or device from its birth: its metrics by name and alias, and the current
/// value of each channel (seeded by the birth, carried forward by data: Sparkplug reports by exception, so a metric
/// absent from a data message still holds its last value). A null value is unknown (null in the birth or since).
/// </summary>
internal sealed class BornSource
{
    private readonly Dictionary<string, BirthMetric> byName;
    private readonly Dictionary<ulong, BirthMetric> byAlias;

    private BornSource(string machine, Dictionary<string, BirthMetric> byName, Dictionary<ulong, BirthMetric> byAlias, bool[] declared, float?[] values)
    {
        Machine = machine;
        this.byName = byName;
        this.byAlias = byAlias;
        Declared = declared;
        Values = values;
    }

    /// <summary>The machine id the samples of this source carry.</summary>
    public string Machine { get; }

    /// <summary>Per channel, whether the birth declared its metric.</summary>
    public IReadOnlyList<bool> Declared { get; }

    /// <summary>True when the birth declares at least one channel's metric: this source is (meant to be) a machine.</summary>
    public bool Monitored => Declared.Contains(true);

    /// <summary>The first channel whose metric the birth does not declare, or -1 when it declares them all.</summary>
    public int FirstUndeclared { get; private init; } = -1;

    /// <summary>The current value of each channel, or null while unknown.</summary>
    public float?[] Values { get; set; }

    /// <summary>Builds the source from a birth's metrics; false with the reason when the birth cannot be used.</summary>
    public static bool TryCreate(string machine, IReadOnlyList<SparkplugMetric> metrics, ChannelMap channels, [NotNullWhen(true)] out BornSource? source, [NotNullWhen(false)] out string? error)
    {
        source = null;
        var byName = new Dictionary<string, BirthMetric>(StringComparer.Ordinal);
        var byAlias = new Dictionary<ulong, BirthMetric>();
        var declared = new bool[channels.Count];
        var values = new float?[channels.Count];
        for (int i = 0; i < metrics.Count; i++)
        {
            var metric = metrics[i];
            if (string.IsNullOrEmpty(metric.Name))
            {
                error = $"{SparkplugText.Describe(metric, i)}: a birth names every metric";
                return false;
            }

            int channel = channels.ChannelOf(metric.Name);
            var known = new BirthMetric(metric.Name, metric.DataType, channel);
            if (!byName.TryAdd(metric.Name, known))
            {
                error = $"metric '{SparkplugText.Quote(metric.Name)}' is declared twice";
                return false;
            }

            if (metric.Alias is { } alias && !byAlias.TryAdd(alias, known))
            {
                error = string.Create(CultureInfo.InvariantCulture, $"alias {alias} is given to both '{SparkplugText.Quote(byAlias[alias].Name)}' and '{SparkplugText.Quote(metric.Name)}'");
                return false;
            }

            if (channel >= 0)
            {
                if (!TrySeed(metric, channels.Describe(channel), out values[channel], out error))
                {
                    return false;
                }

                declared[channel] = true;
            }
        }

        source = new BornSource(machine, byName, byAlias, declared, values) { FirstUndeclared = Array.IndexOf(declared, false) };
        error = null;
        return true;
    }

    /// <summary>The birth's declaration of a data message's metric: by alias when it has one, else by name.</summary>
    public BirthMetric? Find(SparkplugMetric metric)
    {
        if (metric.Alias is { } alias)
        {
            return byAlias.GetValueOrDefault(alias);
        }

        return metric.Name is { } name ? byName.GetValueOrDefault(name) : null;
    }

    private static bool TrySeed(SparkplugMetric metric, string channel, out float? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!IsNumeric(metric.DataType))
        {
            error = $"{channel} is declared {(metric.DataType is { } type ? type.ToString() : "without a datatype")}; a channel needs a numeric datatype (Int8-UInt64, Float, Double)";
            return false;
        }

        if (metric.IsNull)
        {
            return true;
        }

        if (!metric.TryGetDouble(out double number))
        {
            error = $"{channel}: {metric.Value} is not a {metric.DataType}";
            return false;
        }

        // A non-finite birth value is no value: the channel stays unknown until data gives it one.
        value = float.IsFinite((float)number) ? (float)number : null;
        return true;
    }

    private static bool IsNumeric(SparkplugDataType? type) => type is >= SparkplugDataType.Int8 and <= SparkplugDataType.Double;
}
