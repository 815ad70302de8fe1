namespace TSViz.Explain.Attribution;

/// <summary>
/// Reads an input attribution's name as a user types it: the full names of <see cref="AttributionSaliency.Methods"/>
/// or their short aliases (grad, gxi, ig, sg, occ), in any case.
/// </summary>
public static class AttributionMethodName
{
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["grad"] = AttributionSaliency.Gradient,
        ["gxi"] = AttributionSaliency.GradientTimesInput,
        ["ig"] = AttributionSaliency.IntegratedGradients,
        ["sg"] = AttributionSaliency.SmoothGrad,
        ["occ"] = AttributionSaliency.Occlusion,
    };

    /// <summary>The valid names and aliases, for messages.</summary>
    public static string Valid => string.Join(", ", AttributionSaliency.Methods.Select(m => $"{m} ({Aliases.First(a => a.Value == m).Key})"));

    /// <summary>The full name of <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is neither a method nor an alias; the message lists the valid ones.</exception>
    public static string Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string trimmed = name.Trim();
        var full = AttributionSaliency.Methods.FirstOrDefault(m => string.Equals(m, trimmed, StringComparison.OrdinalIgnoreCase));
        if (full is not null)
        {
            return full;
        }

        return Aliases.TryGetValue(trimmed, out var method)
            ? method
            : throw new ArgumentException($"Unknown attribution method '{trimmed}'; valid: {Valid}.", nameof(name));
    }

    /// <summary>A comma-separated list of names (duplicates dropped, order kept).</summary>
    public static IReadOnlyList<string> ParseList(string names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var methods = names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).Distinct().ToList();
        return methods.Count > 0 ? methods : throw new ArgumentException($"No attribution method given; valid: {Valid}.", nameof(names));
    }
}
