using System.Globalization;

namespace TSViz.Plugins.Sparkplug;

/// <summary>Text quoted in rejection details: cut short, since a detail goes to a log line and the dead-letter topic.</summary>
internal static class SparkplugText
{
    private const int MaxQuoted = 120;

    public static string Quote(string text)
    {
        if (text.Length <= MaxQuoted)
        {
            return text;
        }

        // Cut between two characters, not inside a surrogate pair.
        int cut = char.IsHighSurrogate(text[MaxQuoted - 1]) ? MaxQuoted - 1 : MaxQuoted;
        return string.Concat(text.AsSpan(0, cut), $"… ({text.Length} characters)");
    }

    /// <summary>
    /// The text with lone surrogates replaced by U+FFFD: a detail is written to JSON (the dead-letter topic), whose
    /// writer throws on ill-formed UTF-16, and a topic handed in by code (never by MQTT) may hold one.
    /// </summary>
    public static string WellFormed(string text)
    {
        var builder = new System.Text.StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            builder.Append(rune.ToString());
        }

        return builder.ToString();
    }

    /// <summary>A metric as a detail names it: its name, or its alias when it came without one.</summary>
    public static string Describe(SparkplugMetric metric, int index) => metric.Name is { } name
        ? $"metric '{Quote(name)}'"
        : metric.Alias is { } alias
            ? string.Create(CultureInfo.InvariantCulture, $"metric alias {alias}")
            : string.Create(CultureInfo.InvariantCulture, $"metric #{index} (no name, no alias)");
}
