using System.Text.RegularExpressions;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Docs;

/// <summary>
/// The docs name the file that implements each stage and contract (docs/architecture.md) so a newcomer finds their
/// room; a file moved or renamed without the docs following is a wrong sign-post. Every repository path the README or
/// a docs page names in code spans (src/..., tests/..., config/..., scripts/...) must exist.
/// </summary>
public sealed partial class DocsSourcePathsTests
{
    [Fact]
    public void SourcePaths_NamedInReadmeAndDocs_Exist()
    {
        var missing = Documentation.Files()
            .SelectMany(file => Missing(File.ReadAllText(file), RepositoryPaths.Root).Select(path => $"{Documentation.Relative(file)}: {path}"))
            .ToList();
        Assert.True(missing.Count == 0, "Paths named in the docs that do not exist:\n" + string.Join('\n', missing));
    }

    [Fact]
    public void Missing_MovedFile_IsReported()
    {
        string text = "The root is `src/TSViz.Monitor/Hosting/MonitorHost.cs`; the old place was `src/TSViz.Monitor/Live/MonitorHost.cs`.";
        Assert.Equal(["src/TSViz.Monitor/Live/MonitorHost.cs"], Missing(text, RepositoryPaths.Root));
    }

    /// <summary>The repository paths in <paramref name="markdown"/>'s code spans that do not exist below <paramref name="root"/>.</summary>
    internal static IEnumerable<string> Missing(string markdown, string root)
        => PathPattern().Matches(markdown).Select(m => m.Groups["path"].Value)
            .Where(path => !path.Contains('*', StringComparison.Ordinal) && !path.Contains('<', StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .Where(path => !File.Exists(Path.Combine(root, path)) && !Directory.Exists(Path.Combine(root, path)));

    [GeneratedRegex(@"`(?<path>(?:src|tests|config|scripts|dashboards|models)/[A-Za-z0-9_.\-/*<>]+?)/?`")]
    private static partial Regex PathPattern();
}
