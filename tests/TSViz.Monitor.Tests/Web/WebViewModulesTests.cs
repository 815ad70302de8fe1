using System.IO.Compression;
using System.Net;
using TSViz.Monitor.Tests.Jobs;
using TSViz.Monitor.Tests.Security;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Web;

/// <summary>
/// The web view's script is ES modules with no build step: the monitor serves each one as JavaScript (compressed,
/// with the security headers), and every import resolves to a module it serves.
/// </summary>
public sealed class WebViewModulesTests
{
    private static readonly string WebFolder = Path.Combine(RepositoryPaths.Root, "src", "TSViz.Monitor", "Web");

    [Fact]
    public async Task Modules_FromThePage_EveryOneServedAsCompressedJavaScriptAndEveryImportResolves()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var monitor = await JobsTestMonitor.StartAsync(Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"), simulator: false, cancel.Token);
        var encodings = new Dictionary<string, string>(StringComparer.Ordinal);

        var walk = await ModuleGraph.WalkAsync(new Uri(monitor.Http.BaseAddress!, "/"), async (uri, ct) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.AcceptEncoding.ParseAdd("gzip");
            using var response = await monitor.Http.SendAsync(request, ct);
            SecurityTests.AssertSecurityHeaders(response, uri.AbsolutePath);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return null;
            }

            encodings[uri.AbsolutePath] = string.Join(',', response.Content.Headers.ContentEncoding);
            var stream = await response.Content.ReadAsStreamAsync(ct);
            await using var body = response.Content.Headers.ContentEncoding.Contains("gzip") ? new GZipStream(stream, CompressionMode.Decompress) : stream;
            using var reader = new StreamReader(body);
            return new ModuleGraph.Served(response.Content.Headers.ContentType?.MediaType, await reader.ReadToEndAsync(ct));
        }, cancel.Token);

        Assert.True(walk.Problems.Count == 0, string.Join('\n', walk.Problems));
        // Every module in the source folder is reached from the page (none left behind by a rename or a move) ...
        var files = Directory.EnumerateFiles(WebFolder, "*.js", SearchOption.AllDirectories)
            .Select(f => "/static/" + Path.GetRelativePath(WebFolder, f).Replace('\\', '/'));
        Assert.Equal(files.Order(StringComparer.Ordinal), walk.Modules.Keys.Select(m => m.AbsolutePath).Order(StringComparer.Ordinal));
        Assert.Contains(walk.Modules, m => m.Value.Count > 0);
        // ... and compressed: the host compresses text/javascript (a plant PC on a slow link loads the page fast).
        Assert.All(walk.Modules.Keys, m => Assert.True(encodings[m.AbsolutePath] == "gzip", $"{m.AbsolutePath}: Content-Encoding '{encodings[m.AbsolutePath]}'"));

        // A module the page does not have is a 404, as the browser would get for a missing import.
        using var missing = await monitor.Http.GetAsync(new Uri("/static/js/not-a-module.js", UriKind.Relative), cancel.Token);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Walk_ImportOfAMissingFileWrongTypeBareNameOrOtherOrigin_EachReported()
    {
        var site = new Dictionary<string, ModuleGraph.Served>(StringComparer.Ordinal)
        {
            ["/"] = new("text/html", """<script type="module" src="/static/app.js"></script>"""),
            ["/static/app.js"] = new("text/javascript", """
                import { a } from "./js/a.js";
                import "./js/gone.js";
                import { b } from "./js/b.js";
                """),
            ["/static/js/a.js"] = new("text/javascript", """
                export { c } from "../app.js";
                import lodash from "lodash";
                import { d } from "https://cdn.example/d.js";
                export const a = 1;
                """),
            ["/static/js/b.js"] = new("text/plain", "export const b = 2;"),
        };

        var walk = await ModuleGraph.WalkAsync(new Uri("http://monitor.test/"), (uri, _) => Task.FromResult<ModuleGraph.Served?>(site.GetValueOrDefault(uri.AbsolutePath)), CancellationToken.None);

        Assert.Equal(
            [
                "/static/js/a.js: bare specifier \"lodash\" (no import map)",
                "/static/js/a.js: \"https://cdn.example/d.js\" is not from the page's origin",
                "/static/js/gone.js (imported by /static/app.js): not served",
                "/static/js/b.js: served as text/plain, not text/javascript",
            ],
            walk.Problems);
        Assert.Equal(["/static/app.js", "/static/js/a.js", "/static/js/gone.js", "/static/js/b.js"], walk.Modules.Keys.Select(m => m.AbsolutePath));
    }

    [Fact]
    public void Imports_EveryFormAcrossLines_FoundAndCommentedOrQuotedOnesIgnored()
    {
        const string Module = """
            import { api, postJson } from "./api.js";
            import {
              one,
              two as three,
            } from './multi.js';
            import * as all from "./all.js";
            import fallback, { named } from "./both.js";
            import "./effect.js";
            export { x } from "./again.js";
            export * from "./star.js";
            // import { old } from "./commented.js";
            const text = `the import from "./quoted.js" is prose`;
            export const later = () => import("./lazy.js");
            export function fromHere() { return "./not-an-import.js"; }
            """;

        Assert.Equal(
            ["./api.js", "./multi.js", "./all.js", "./both.js", "./effect.js", "./again.js", "./star.js", "./lazy.js"],
            ModuleGraph.Imports(Module));
    }
}
