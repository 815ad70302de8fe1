using System.Text.Json;
using System.Text.RegularExpressions;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Prometheus;

/// <summary>The shipped Grafana dashboards (dashboards/json/*.json) and every PromQL query in them.</summary>
internal static partial class DashboardFiles
{
    /// <summary>What the test puts in place of Grafana's variables: every machine, and windows that hold data after a few 1 s scrapes.</summary>
    private static readonly Dictionary<string, string> Substitutes = new(StringComparer.Ordinal)
    {
        ["machine"] = ".+",
        ["__rate_interval"] = "1m",
        ["__interval"] = "15s",
        ["__range"] = "5m",
    };

    public static string Folder => Path.Combine(RepositoryPaths.Root, "dashboards", "json");

    public static IReadOnlyList<(string File, JsonElement Dashboard)> Load() =>
        Directory.GetFiles(Folder, "*.json").Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), JsonDocument.Parse(File.ReadAllText(f)).RootElement.Clone()))
            .ToList();

    /// <summary>Every panel target's expression (rows' nested panels included), named "file / panel title / refId".</summary>
    public static IReadOnlyList<(string Name, string Expression)> Queries(string file, JsonElement dashboard)
    {
        var queries = new List<(string, string)>();
        foreach (var panel in Panels(dashboard))
        {
            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }

            foreach (var target in targets.EnumerateArray())
            {
                string refId = target.TryGetProperty("refId", out var id) ? id.GetString()! : "?";
                string expression = target.GetProperty("expr").GetString()!;
                queries.Add(($"{file} / {panel.GetProperty("title").GetString()} / {refId}", expression));
            }
        }

        return queries;
    }

    public static IEnumerable<JsonElement> Panels(JsonElement dashboard)
    {
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var nested))
            {
                foreach (var inner in nested.EnumerateArray())
                {
                    yield return inner;
                }
            }
        }
    }

    public static IEnumerable<JsonElement> Variables(JsonElement dashboard) =>
        dashboard.TryGetProperty("templating", out var templating) ? templating.GetProperty("list").EnumerateArray() : [];

    /// <summary>The expression with Grafana's variables ($name, ${name}, ${name:format}) replaced; an unknown variable throws.</summary>
    public static string Substitute(string expression) =>
        VariablePattern().Replace(expression, m =>
        {
            string name = m.Groups["braced"].Success ? m.Groups["braced"].Value : m.Groups["plain"].Value;
            return Substitutes.TryGetValue(name, out var value)
                ? value
                : throw new InvalidOperationException($"Unknown Grafana variable ${name} in: {expression}");
        });

    [GeneratedRegex(@"\$\{(?<braced>\w+)(?::\w+)?\}|\$(?<plain>\w+)")]
    private static partial Regex VariablePattern();
}
