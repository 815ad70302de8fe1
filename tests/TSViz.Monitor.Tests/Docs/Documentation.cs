using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Docs;

/// <summary>
/// The repository's documentation as a reader finds it: README.md at the root and every page under docs/. Tests that
/// hold the documentation to the code (commands run verbatim, codes listed, links that resolve) read all of it, so a
/// paragraph may move between pages without a test losing sight of it.
/// </summary>
internal static class Documentation
{
    /// <summary>README.md, then every docs/**/*.md in ordinal order of its path.</summary>
    public static IReadOnlyList<string> Files()
    {
        string docs = Path.Combine(RepositoryPaths.Root, "docs");
        var pages = Directory.Exists(docs)
            ? Directory.GetFiles(docs, "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            : Enumerable.Empty<string>();
        return [Path.Combine(RepositoryPaths.Root, "README.md"), .. pages];
    }

    /// <summary>A file's path from the repository root, with '/' separators (for messages).</summary>
    public static string Relative(string path) => Path.GetRelativePath(RepositoryPaths.Root, path).Replace('\\', '/');
}
