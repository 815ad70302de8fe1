using TSViz.Plugins.Ingest;

namespace TSViz.Monitor.Live;

/// <summary>
/// The Unified Namespace mirror (Mqtt:UnsMirror, off when empty): every explanation and alert is also published on an
/// ISA-95 style path built from the machine's own topic levels, e.g. <c>acme/{site}/{area}/{line}/{machine}/tsviz/{kind}</c>
/// for input on <c>acme/{site}/{area}/{line}/{machine}/telemetry</c>. A placeholder is one the machine id carries
/// (<see cref="TopicPattern.IdentityPlaceholders"/>) or {kind} (explanation, alert); other levels are literal.
/// </summary>
internal sealed class UnsMirror
{
    private readonly string[] levels;
    private readonly TopicPattern topics;

    private UnsMirror(string template, TopicPattern topics)
    {
        Template = template;
        levels = template.Split('/');
        this.topics = topics;
        Filter = string.Join('/', levels.Select(l => IsPlaceholder(l) ? "+" : l));
    }

    public string Template { get; }

    /// <summary>The MQTT filter every mirror topic falls under (placeholders as '+'), for the broker's access rules.</summary>
    public string Filter { get; }

    /// <summary>Null when <paramref name="template"/> is empty (the mirror is off); otherwise the mirror, or a problem.</summary>
    public static UnsMirror? TryCreate(string? template, TopicPattern topics, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(topics);
        problem = null;
        if (string.IsNullOrWhiteSpace(template))
        {
            return null;
        }

        var known = topics.IdentityPlaceholders.Append("kind").ToHashSet(StringComparer.Ordinal);
        foreach (string level in template.Split('/'))
        {
            if (level.Length == 0 || level.Contains('#', StringComparison.Ordinal) || level.Contains('+', StringComparison.Ordinal))
            {
                problem = $"has an empty level or an MQTT wildcard ('{level}')";
                return null;
            }

            if (IsPlaceholder(level) ? !known.Contains(level[1..^1]) : level.Contains('{', StringComparison.Ordinal) || level.Contains('}', StringComparison.Ordinal))
            {
                problem = $"level '{level}' is neither literal nor one of {string.Join(", ", known.Select(k => "{" + k + "}"))} (the placeholders of the machine id and {{kind}})";
                return null;
            }
        }

        if (!template.Contains("{kind}", StringComparison.Ordinal))
        {
            problem = "needs {kind} (explanation and alert must not share a topic)";
            return null;
        }

        return new UnsMirror(template, topics);
    }

    /// <summary>The mirror topic of <paramref name="kind"/> for <paramref name="machine"/>.</summary>
    public string Topic(string machine, string kind)
    {
        var values = topics.ValuesOf(machine);
        return string.Join('/', levels.Select(l => !IsPlaceholder(l) ? l : l == "{kind}" ? kind : values.TryGetValue(l[1..^1], out var v) ? v : "_"));
    }

    private static bool IsPlaceholder(string level) => level.Length > 2 && level[0] == '{' && level[^1] == '}';
}
