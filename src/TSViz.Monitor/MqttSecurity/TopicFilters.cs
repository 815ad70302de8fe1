namespace TSViz.Monitor.MqttSecurity;

/// <summary>MQTT topic and filter arithmetic for the broker's access rules.</summary>
internal static class TopicFilters
{
    /// <summary>
    /// Whether every topic <paramref name="filter"/> can match is also matched by <paramref name="allowed"/> (a topic
    /// name is a filter without wildcards). '+' in <paramref name="allowed"/> covers one level ('+' included, '#' not);
    /// a trailing '#' covers the rest, including the parent level itself (MQTT 5, 4.7.1.2).
    /// </summary>
    public static bool IsWithin(string filter, string allowed)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(allowed);
        var f = filter.Split('/');
        var a = allowed.Split('/');
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] == "#")
            {
                return true; // f is longer than or as long as the parent level
            }

            if (i >= f.Length || (a[i] == "+" ? f[i] == "#" : f[i] != a[i]))
            {
                return false;
            }
        }

        return f.Length == a.Length;
    }

    /// <summary>The filter of a topic pattern: every wildcard level becomes '+'.</summary>
    public static string FromPattern(string pattern) => TSViz.Plugins.Ingest.TopicPattern.Parse(pattern).SubscriptionFilter;

    /// <summary>A shared subscription ($share/group/filter) is judged by the filter it shares.</summary>
    public static string WithoutShare(string filter)
    {
        if (filter.StartsWith("$share/", StringComparison.Ordinal))
        {
            int slash = filter.IndexOf('/', "$share/".Length);
            return slash < 0 ? filter : filter[(slash + 1)..];
        }

        return filter;
    }
}
