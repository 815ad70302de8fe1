using System.Text.Json;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Docs;

/// <summary>docs/configuration.md describes every setting config/monitor.json carries.</summary>
public sealed class ConfigurationDocsTests
{
    [Fact]
    public void ConfigurationPage_EveryKeyOfMonitorJson_Listed()
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "config", "monitor.json")));
        string page = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "configuration.md"));
        var keys = Keys(config.RootElement.GetProperty("Monitor"), prefix: "").ToList();
        Assert.NotEmpty(keys);
        var missing = keys.Where(key => !page.Contains($"`{key}`", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, $"docs/configuration.md does not list {string.Join(", ", missing)} (as `Section:Key` in a table row).");
    }

    /// <summary>Every setting under <paramref name="element"/>: a value, an array or an empty object (a map) is one key.</summary>
    private static IEnumerable<string> Keys(JsonElement element, string prefix)
    {
        foreach (var property in element.EnumerateObject())
        {
            string key = prefix + property.Name;
            if (property.Value.ValueKind == JsonValueKind.Object && property.Value.EnumerateObject().Any())
            {
                foreach (string inner in Keys(property.Value, key + ":"))
                {
                    yield return inner;
                }
            }
            else
            {
                yield return key;
            }
        }
    }
}
