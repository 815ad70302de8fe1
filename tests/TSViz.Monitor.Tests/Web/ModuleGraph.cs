using System.Text.RegularExpressions;

namespace TSViz.Monitor.Tests.Web;

/// <summary>
/// The web view's JavaScript modules as the browser walks them: from the page's module scripts, every import resolved
/// against the address of the module that names it, each module fetched once. Problems are what would stop the
/// browser: a module that is not served, one served with a type that is not JavaScript (the monitor sends
/// X-Content-Type-Options: nosniff, so the browser refuses it), a bare specifier (no import map), another origin
/// (the Content-Security-Policy allows scripts from 'self' only).
/// </summary>
internal static partial class ModuleGraph
{
    /// <summary>What the server answered: null for anything but 200; the media type without parameters.</summary>
    public sealed record Served(string? MediaType, string Body);

    /// <summary>The walk: every module reached, with the modules it imports, and every problem found.</summary>
    public sealed record Walk(IReadOnlyDictionary<Uri, IReadOnlyList<Uri>> Modules, IReadOnlyList<string> Problems);

    public static async Task<Walk> WalkAsync(Uri page, Func<Uri, CancellationToken, Task<Served?>> fetch, CancellationToken cancellationToken)
    {
        var modules = new Dictionary<Uri, IReadOnlyList<Uri>>();
        var problems = new List<string>();
        var html = await fetch(page, cancellationToken);
        if (html is null)
        {
            return new Walk(modules, [$"{page.AbsolutePath}: not served"]);
        }

        var pending = new Queue<(Uri Module, string From)>();
        foreach (string source in ModuleScripts(html.Body))
        {
            Enqueue(page, source, page.AbsolutePath);
        }

        if (pending.Count == 0)
        {
            problems.Add($"{page.AbsolutePath}: no <script type=\"module\" src=...>");
        }

        while (pending.TryDequeue(out var next))
        {
            if (modules.ContainsKey(next.Module))
            {
                continue;
            }

            var served = await fetch(next.Module, cancellationToken);
            if (served is null)
            {
                problems.Add($"{next.Module.AbsolutePath} (imported by {next.From}): not served");
                modules[next.Module] = [];
                continue;
            }

            if (served.MediaType != "text/javascript")
            {
                problems.Add($"{next.Module.AbsolutePath}: served as {served.MediaType ?? "(no type)"}, not text/javascript");
            }

            var imports = new List<Uri>();
            foreach (string specifier in Imports(served.Body))
            {
                if (Enqueue(next.Module, specifier, next.Module.AbsolutePath) is { } resolved)
                {
                    imports.Add(resolved);
                }
            }

            modules[next.Module] = imports;
        }

        return new Walk(modules, problems);

        Uri? Enqueue(Uri from, string specifier, string fromName)
        {
            // As the browser resolves a module specifier: a URL, or a path starting with /, ./ or ../ against the importer.
            bool relative = specifier.StartsWith('/') || specifier.StartsWith("./", StringComparison.Ordinal) || specifier.StartsWith("../", StringComparison.Ordinal);
            if (!relative && !Uri.IsWellFormedUriString(specifier, UriKind.Absolute))
            {
                problems.Add($"{fromName}: bare specifier \"{specifier}\" (no import map)");
                return null;
            }

            var resolved = relative ? new Uri(from, new Uri(specifier, UriKind.Relative)) : new Uri(specifier);
            if (resolved.GetLeftPart(UriPartial.Authority) != page.GetLeftPart(UriPartial.Authority))
            {
                problems.Add($"{fromName}: \"{specifier}\" is not from the page's origin");
                return null;
            }

            pending.Enqueue((resolved, fromName));
            return resolved;
        }
    }

    /// <summary>The src of every &lt;script type="module"&gt; in a page.</summary>
    public static IEnumerable<string> ModuleScripts(string html)
        => ModuleScriptPattern().Matches(html).Select(m => m.Groups["src"].Value);

    /// <summary>
    /// The specifiers a module imports: static imports and re-exports (<c>import x from "…"</c>, <c>import "…"</c>,
    /// <c>export { x } from "…"</c>, across lines), and dynamic imports of a string literal.
    /// </summary>
    public static IEnumerable<string> Imports(string module)
        => StaticImportPattern().Matches(module).Concat(DynamicImportPattern().Matches(module)).Select(m => m.Groups["spec"].Value);

    [GeneratedRegex("""<script\b(?=[^>]*\btype="module")[^>]*\bsrc="(?<src>[^"]+)"[^>]*>""")]
    private static partial Regex ModuleScriptPattern();

    // At the start of a line (a commented-out import is not one); between the keyword and `from`, only what an import
    // or export clause holds: names, braces, commas, `*`, `as`.
    [GeneratedRegex("""^[ \t]*(?:import|export)\s*(?:[\w$*{},\s]+?\s*from\s*)?(?<q>["'])(?<spec>[^"'\r\n]+)\k<q>""", RegexOptions.Multiline)]
    private static partial Regex StaticImportPattern();

    [GeneratedRegex("""\bimport\s*\(\s*(?<q>["'])(?<spec>[^"'\r\n]+)\k<q>\s*\)""")]
    private static partial Regex DynamicImportPattern();
}
