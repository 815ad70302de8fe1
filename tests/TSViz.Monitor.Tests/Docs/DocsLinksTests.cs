using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Docs;

/// <summary>README.md and docs/ hold together: every relative link resolves, to a file and to a heading, and the README stays short.</summary>
public sealed class DocsLinksTests
{
    /// <summary>The README is the entry point (what it is, the two commands, what you see, links); the rest lives in docs/.</summary>
    private const int ReadmeMaxLines = 250;

    [Fact]
    public void Links_EveryRelativeLinkInReadmeAndDocs_ResolvesToAFileAndHeading()
    {
        var files = Documentation.Files();
        Assert.True(files.Count > 1, "No pages under docs/: the README links to them.");
        var problems = files.SelectMany(file => MarkdownLinks.Problems(file)).Select(p => p.Replace(RepositoryPaths.Root + Path.DirectorySeparatorChar, string.Empty, StringComparison.Ordinal)).ToList();
        Assert.True(problems.Count == 0, $"{problems.Count} broken links:\n{string.Join('\n', problems)}");
    }

    [Fact]
    public void Links_EveryDocsPage_IsLinkedFromTheReadme()
    {
        string readme = Path.Combine(RepositoryPaths.Root, "README.md");
        var linked = MarkdownLinks.Targets(File.ReadAllText(readme))
            .Select(t => Path.GetFullPath(Path.Combine(RepositoryPaths.Root, t.Split('#')[0])))
            .ToHashSet(StringComparer.Ordinal);
        var unlinked = Documentation.Files().Skip(1).Where(page => !linked.Contains(page)).Select(Documentation.Relative).ToList();
        Assert.True(unlinked.Count == 0, $"Pages the README does not link to: {string.Join(", ", unlinked)}");
    }

    [Fact]
    public void Readme_LineCount_UnderTheLimit()
    {
        int lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "README.md")).Length;
        Assert.True(lines < ReadmeMaxLines, $"README.md has {lines} lines (limit {ReadmeMaxLines}): move the detail to a page under docs/ and link to it.");
    }

    [Fact]
    public void Problems_BrokenFileAndAnchor_EachReported()
    {
        string folder = RepositoryPaths.NewTempDirectory();
        File.WriteAllText(Path.Combine(folder, "other.md"), "# Other page\n\n## A `code` heading, with punctuation!\n\n## Twice\n\n## Twice\n");
        string page = Path.Combine(folder, "page.md");
        File.WriteAllText(page, string.Join('\n',
            "# Page",
            "[ok](other.md) [ok](other.md#a-code-heading-with-punctuation) [ok](other.md#twice-1) [ok](#page) [ok](https://example.com/x.md)",
            "[missing file](gone.md) [missing heading](other.md#nowhere) [missing here](#nowhere)",
            "`[in code](gone.md)`",
            "```",
            "[in a block](gone.md)",
            "```"));

        var problems = MarkdownLinks.Problems(page);

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.Contains("'gone.md'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'other.md#nowhere'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'#nowhere'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Set-up on a fresh machine (Debian 12 with the .NET 10 SDK)", "set-up-on-a-fresh-machine-debian-12-with-the-net-10-sdk")]
    [InlineData("6. Out, then acknowledge (durable acknowledgement)", "6-out-then-acknowledge-durable-acknowledgement")]
    [InlineData("The `explain` verb's input and output", "the-explain-verbs-input-and-output")]
    [InlineData("A plant's broker", "a-plants-broker")]
    [InlineData("Sparkplug B output", "sparkplug-b-output")]
    public void Slug_Heading_GitHubAnchor(string heading, string expected) => Assert.Equal(expected, MarkdownLinks.Slug(heading));
}
