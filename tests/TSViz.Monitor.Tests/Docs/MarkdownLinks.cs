using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace TSViz.Monitor.Tests.Docs;

/// <summary>
/// The relative links of Markdown files and the anchors their headings get, by GitHub's rules: a heading's anchor is
/// its text lower-cased, with every character that is not a letter, digit, '_', '-' or space dropped and each space
/// turned into '-'; a repeated anchor gets -1, -2, ... Links inside code (fenced blocks, inline spans) are not links.
/// </summary>
internal static partial class MarkdownLinks
{
    /// <summary>What is wrong with each relative link of <paramref name="file"/>: a missing file or folder, or a missing heading.</summary>
    public static IReadOnlyList<string> Problems(string file)
    {
        var problems = new List<string>();
        string folder = Path.GetDirectoryName(file)!;
        foreach (string target in Targets(File.ReadAllText(file)))
        {
            int hash = target.IndexOf('#', StringComparison.Ordinal);
            string path = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
            string? anchor = hash < 0 ? null : target[(hash + 1)..];
            string resolved = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(folder, path));
            if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                problems.Add($"{file}: link '{target}': no file or folder {resolved}");
                continue;
            }

            if (anchor is not null)
            {
                if (!File.Exists(resolved) || !resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add($"{file}: link '{target}': an anchor needs a Markdown file");
                }
                else if (!Anchors(File.ReadAllText(resolved)).Contains(anchor))
                {
                    problems.Add($"{file}: link '{target}': no heading with anchor '{anchor}' in {resolved}");
                }
            }
        }

        return problems;
    }

    /// <summary>The targets of the inline links outside code that are relative (no scheme such as https: or mailto:).</summary>
    public static IReadOnlyList<string> Targets(string markdown)
    {
        string prose = InlineCode().Replace(WithoutFencedBlocks(markdown), string.Empty);
        return [.. Link().Matches(prose).Select(m => m.Groups[1].Value).Where(t => !Scheme().IsMatch(t))];
    }

    /// <summary>The anchors of every ATX heading outside fenced blocks, repeated ones numbered as GitHub numbers them.</summary>
    public static IReadOnlySet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string line in WithoutFencedBlocks(markdown).Split('\n'))
        {
            var heading = Heading().Match(line);
            if (!heading.Success)
            {
                continue;
            }

            string slug = Slug(heading.Groups[1].Value);
            int count = seen.GetValueOrDefault(slug);
            seen[slug] = count + 1;
            anchors.Add(count == 0 ? slug : $"{slug}-{count}");
        }

        return anchors;
    }

    /// <summary>GitHub's anchor of a heading's text (inline code and link markup reduced to their text first).</summary>
    public static string Slug(string heading)
    {
        string text = LinkMarkup().Replace(heading.Trim(), "$1").Replace("`", string.Empty, StringComparison.Ordinal);
        var slug = new StringBuilder();
        foreach (char c in text.ToLowerInvariant())
        {
            var category = char.GetUnicodeCategory(c);
            if (c == ' ')
            {
                slug.Append('-');
            }
            else if (c == '-' || char.IsLetterOrDigit(c) || category is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.NonSpacingMark
                or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber)
            {
                slug.Append(c);
            }
        }

        return slug.ToString();
    }

    /// <summary>The text with every fenced code block's lines blanked (line count kept).</summary>
    private static string WithoutFencedBlocks(string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        bool inBlock = false;
        for (int i = 0; i < lines.Length; i++)
        {
            bool fence = lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal);
            if (fence || inBlock)
            {
                lines[i] = string.Empty;
            }

            if (fence)
            {
                inBlock = !inBlock;
            }
        }

        return string.Join('\n', lines);
    }

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex("`[^`]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"\[([^\]]*)\]\([^)]*\)")]
    private static partial Regex LinkMarkup();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex Scheme();
}
