using System.Buffers;

namespace TSViz.Plugins.Ingest;

/// <summary>
/// The input topic pattern and how it names a machine: <c>plant/{line}/{machine}/telemetry</c>. A segment is a literal,
/// a named placeholder (<c>{line}</c>) or <c>+</c> (any one level, unnamed). By default a machine is identified by every
/// wildcard segment, in topic order, joined with '/': <c>plant/A/m2/telemetry</c> is machine <c>A/m2</c> and
/// <c>plant/B/m2/telemetry</c> another machine, so two lines with a machine of the same name never share a stream. An
/// identity template (<c>{machine}</c>, <c>{line}/{machine}</c>) names the placeholders that make the id instead; a
/// template that leaves one out merges the streams it tells apart, on purpose (for example to keep the ids an older
/// version wrote). The one place that parses topics: the decoder, the ingest stage, the subscription, the broker's
/// access rules and the simulator all use it.
/// </summary>
public sealed class TopicPattern
{
    private static readonly SearchValues<char> NameCharacters = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

    private readonly string[] segments;
    private readonly int[] identity; // indices into segments, in id order

    private TopicPattern(string text, string[] segments, int[] identity, string? template)
    {
        Text = text;
        this.segments = segments;
        this.identity = identity;
        Template = template;
        SubscriptionFilter = string.Join('/', segments.Select(s => IsWildcard(s) ? "+" : s));
        IdentityLevels = identity.Length;
    }

    /// <summary>The pattern as configured.</summary>
    public string Text { get; }

    /// <summary>The identity template as configured; null when every wildcard segment is part of the id.</summary>
    public string? Template { get; }

    /// <summary>The MQTT subscription filter: every wildcard segment as '+'.</summary>
    public string SubscriptionFilter { get; }

    /// <summary>How many topic levels a machine id has (its '/'-separated parts).</summary>
    public int IdentityLevels { get; }

    /// <summary>The names of the pattern's placeholders, in topic order.</summary>
    public IEnumerable<string> Placeholders => segments.Where(IsPlaceholder).Select(s => s[1..^1]);

    /// <summary>The names of the placeholders a machine id carries (what <see cref="ValuesOf"/> returns).</summary>
    public IEnumerable<string> IdentityPlaceholders => identity.Select(i => segments[i]).Where(IsPlaceholder).Select(s => s[1..^1]);

    /// <summary>
    /// Parses <paramref name="pattern"/> and the identity <paramref name="template"/> (null or empty: every wildcard
    /// segment). Returns null with <paramref name="problem"/> saying what is wrong, for a configuration error naming
    /// the key.
    /// </summary>
    public static TopicPattern? TryParse(string? pattern, string? template, out string problem)
    {
        problem = string.Empty;
        if (string.IsNullOrEmpty(pattern))
        {
            problem = "is empty";
            return null;
        }

        var segments = pattern.Split('/');
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < segments.Length; i++)
        {
            string s = segments[i];
            if (s.Length == 0)
            {
                problem = $"has an empty level (segment {i + 1})";
                return null;
            }

            if (s == "#" || (s.Length > 1 && s.AsSpan().ContainsAny('+', '#')))
            {
                problem = $"segment '{s}': '#' and '+' inside a level cannot name a machine; use '+' alone or a placeholder such as {{line}}";
                return null;
            }

            if (s.Contains('{', StringComparison.Ordinal) || s.Contains('}', StringComparison.Ordinal))
            {
                if (!IsPlaceholder(s) || !IsName(s.AsSpan(1, s.Length - 2)))
                {
                    problem = $"segment '{s}' is not a placeholder: a whole level {{name}}, the name letters, digits, '_' or '-'";
                    return null;
                }

                if (!names.Add(s[1..^1]))
                {
                    problem = $"names {s} twice";
                    return null;
                }
            }
        }

        int[] identity;
        if (string.IsNullOrEmpty(template))
        {
            identity = [.. Enumerable.Range(0, segments.Length).Where(i => IsWildcard(segments[i]))];
            if (identity.Length == 0)
            {
                problem = "has no wildcard level to name the machine: use placeholders such as plant/{line}/{machine}/telemetry";
                return null;
            }
        }
        else
        {
            var parts = template.Split('/');
            identity = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                int at = IsPlaceholder(parts[i]) ? Array.IndexOf(segments, parts[i]) : -1;
                if (at < 0)
                {
                    problem = $"the machine id template '{template}': '{parts[i]}' is not a placeholder of the pattern (it has {(names.Count == 0 ? "none" : string.Join(", ", names.Select(n => "{" + n + "}")))}); write the id as placeholders joined with '/'";
                    return null;
                }

                if (Array.IndexOf(identity, at, 0, i) >= 0)
                {
                    problem = $"the machine id template '{template}' uses {parts[i]} twice";
                    return null;
                }

                identity[i] = at;
            }
        }

        return new TopicPattern(pattern, segments, identity, string.IsNullOrEmpty(template) ? null : template);
    }

    /// <summary>Parses, throwing <see cref="ArgumentException"/> with the problem when the pattern or template is wrong.</summary>
    public static TopicPattern Parse(string pattern, string? template = null)
        => TryParse(pattern, template, out string problem) ?? throw new ArgumentException($"The topic pattern '{pattern}' {problem}.", nameof(pattern));

    /// <summary>
    /// The machine id of a topic that matches the pattern; null when it does not: another number of levels, another
    /// literal, an empty level, an MQTT wildcard (they cannot stand in a topic name, MQTT 5.0 section 4.7.1), or an
    /// id part that is not well-formed Unicode (it could not be written to JSON or a metric label downstream).
    /// </summary>
    public string? MachineOf(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (topic.AsSpan().ContainsAny('+', '#'))
        {
            return null;
        }

        var parts = topic.Split('/');
        if (parts.Length != segments.Length)
        {
            return null;
        }

        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length == 0 || (!IsWildcard(segments[i]) && segments[i] != parts[i]) || !WellFormedText.IsWellFormed(parts[i]))
            {
                return null;
            }
        }

        return identity.Length == 1 ? parts[identity[0]] : string.Join('/', identity.Select(i => parts[i]));
    }

    /// <summary>
    /// The named levels a machine id carries (placeholder name -> level), e.g. line -> A and machine -> m2 for A/m2;
    /// empty when <paramref name="machine"/> does not have the id's number of levels. Unnamed '+' levels have no name.
    /// </summary>
    public IReadOnlyDictionary<string, string> ValuesOf(string machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var parts = IdentityLevels == 1 ? [machine] : machine.Split('/');
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (parts.Length == identity.Length)
        {
            for (int i = 0; i < parts.Length; i++)
            {
                string segment = segments[identity[i]];
                if (IsPlaceholder(segment))
                {
                    values[segment[1..^1]] = parts[i];
                }
            }
        }

        return values;
    }

    /// <summary>
    /// A topic of the pattern for <paramref name="values"/> (placeholder name -> level); an unnamed '+', or a
    /// placeholder without a value, takes <paramref name="fill"/>. Used by the simulator and the tests.
    /// </summary>
    public string Topic(IReadOnlyDictionary<string, string> values, string fill)
    {
        ArgumentNullException.ThrowIfNull(values);
        return string.Join('/', segments.Select(s =>
            !IsWildcard(s) ? s : IsPlaceholder(s) && values.TryGetValue(s[1..^1], out var v) ? v : fill));
    }

    /// <summary>
    /// The pattern as configured, followed by the identity template when there is one: for logs and errors.
    /// </summary>
    public override string ToString() => Template is null ? Text : $"{Text} (machine id {Template})";

    private static bool IsWildcard(string segment) => segment == "+" || IsPlaceholder(segment);

    private static bool IsPlaceholder(string segment) => segment.Length > 2 && segment[0] == '{' && segment[^1] == '}';

    private static bool IsName(ReadOnlySpan<char> name)
        => !name.IsEmpty && name.IndexOfAnyExcept(NameCharacters) < 0;
}
