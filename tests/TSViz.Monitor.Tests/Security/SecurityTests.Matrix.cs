using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using TSViz.Monitor.Security;
using Xunit.Abstractions;

namespace TSViz.Monitor.Tests.Security;

/// <summary>
/// Who may call what, measured on the running monitor: every endpoint with no credentials, a wrong key, and a key of
/// each role. An endpoint a role may use answers as usual (200, 201, 202, or 400/404 for the test's deliberately bad
/// parameter or unknown id, which proves the request got past authorization); the others 401 or 403.
/// </summary>
public sealed partial class SecurityTests(SecuredMonitor secured, ITestOutputHelper output) : IClassFixture<SecuredMonitor>
{
    private const string Anonymous = "-";
    private const string Public = "public";

    /// <summary>Method, path (unknown ids and bad parameters keep costly work from running), and the lowest role allowed.</summary>
    public static readonly (string Method, string Path, string Needs)[] Endpoints =
    [
        ("GET", "/health", Public),
        ("GET", "/", Public),
        ("GET", "/static/app.js", Public),
        ("GET", "/metrics", Roles.Viewer),
        ("GET", "/openapi/v1.json", Roles.Viewer),
        ("GET", "/api/whoami", Roles.Viewer),
        ("GET", "/api/windows", Roles.Viewer),
        ("GET", "/api/windows/nope", Roles.Viewer),
        ("GET", "/api/alerts", Roles.Viewer),
        ("GET", "/api/alerts/nope", Roles.Viewer),
        ("GET", "/api/alerts/nope/similar", Roles.Viewer),
        ("GET", "/api/alerts/nope/counterfactual", Roles.Viewer),
        ("GET", "/api/alerts/nope/pattern", Roles.Viewer),
        ("GET", "/api/patterns/nope", Roles.Viewer),
        ("GET", "/api/drift", Roles.Viewer),
        ("GET", "/api/drift/machine?machine=nope", Roles.Viewer),
        ("GET", "/api/drift/events", Roles.Viewer),
        ("GET", "/api/alerts/nope/feedback", Roles.Viewer),
        ("GET", "/api/aggregates/alerts-per-hour", Roles.Viewer),
        ("GET", "/api/aggregates/channel-contributions?machine=m1", Roles.Viewer),
        ("GET", "/api/aggregates/top-filters", Roles.Viewer),
        ("GET", "/api/jobs", Roles.Viewer),
        ("GET", "/api/analyses", Roles.Viewer),
        ("GET", "/api/model", Roles.Viewer),
        ("GET", "/api/windows/nope/influence", Roles.Viewer),
        ("GET", "/api/windows/nope/trace?layer=conv1&filter=0&step=0", Roles.Viewer),
        ("POST", "/api/alerts/nope/feedback", Roles.Operator),
        ("POST", "/api/jobs/nope/trigger", Roles.Engineer),
        ("GET", "/api/model/inversion?target=7", Roles.Engineer),
        ("GET", "/api/alerts/nope/adversarial", Roles.Engineer),
        ("GET", "/api/security/keys", Roles.Admin),
    ];

    [Fact]
    public async Task EveryEndpoint_EachRole_AllowedOrRefusedAsTheRolesTableSays()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        string[] callers = [Anonymous, "wrong-key", .. Roles.All];
        var table = new StringBuilder($"| endpoint | {string.Join(" | ", callers)} |\n|---|{string.Concat(callers.Select(_ => "---|"))}\n");
        var wrong = new List<string>();
        foreach (var (method, path, needs) in Endpoints)
        {
            table.Append($"| {method} {path} |");
            foreach (string caller in callers)
            {
                string? credential = caller switch
                {
                    Anonymous => null,
                    "wrong-key" => ApiKeys.Create(),
                    _ => secured.Keys[caller],
                };
                using var http = secured.Client(credential);
                using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
                if (method == "POST")
                {
                    request.Content = new StringContent("""{"kind":"confirm"}""", Encoding.UTF8, "application/json");
                }

                using var response = await http.SendAsync(request, cancel.Token);
                int status = (int)response.StatusCode;
                table.Append($" {status} |");
                int expected = needs == Public || (Roles.IsKnown(caller) && Roles.Rank(caller) >= Roles.Rank(needs)) ? 0
                    : Roles.IsKnown(caller) ? 403 : 401;
                bool ok = expected == 0 ? status is not (401 or 403 or 429) && status < 500 || (path == "/health" && status == 503) : status == expected;
                if (!ok)
                {
                    wrong.Add($"{method} {path} as {caller}: {status}, expected {(expected == 0 ? "allowed" : expected)} ({await response.Content.ReadAsStringAsync(cancel.Token)})");
                }
            }

            table.Append('\n');
        }

        output.WriteLine(table.ToString());
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void Endpoints_EveryOneDeclaresItsRoleOrAnonymous()
    {
        var allowed = new HashSet<string>([.. Roles.All, Roles.Authenticated], StringComparer.Ordinal);
        var endpoints = ((IEndpointRouteBuilder)secured.Monitor.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>().ToList();
        Assert.True(endpoints.Count > 20, $"only {endpoints.Count} endpoints found");
        var open = endpoints
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null
                && !e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy is not null && allowed.Contains(a.Policy)))
            .Select(e => e.RoutePattern.RawText ?? e.DisplayName)
            .ToList();
        Assert.True(open.Count == 0, "endpoints without a declared role: " + string.Join(", ", open));
        // And the table above covers every mapped route.
        var tested = Endpoints.Select(e => e.Path.Split('?')[0]).ToList();
        var untested = endpoints.Select(e => "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'))
            .Where(route => !tested.Any(path => Matches(route, path))).ToList();
        Assert.True(untested.Count == 0, "routes missing from the matrix: " + string.Join(", ", untested));
    }

    [Fact]
    public async Task Metrics_RefusalsCountedByReason()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        using (var none = secured.Client(null))
        using (await none.GetAsync(new Uri("/api/windows", UriKind.Relative), cancel.Token))
        {
        }

        using var viewer = secured.Client(secured.Keys[Roles.Viewer]);
        using (await viewer.GetAsync(new Uri("/api/security/keys", UriKind.Relative), cancel.Token))
        {
        }

        string metrics = await viewer.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancel.Token);
        foreach (string reason in SecurityState.RefusalReasons)
        {
            Assert.Contains($"tsviz_http_requests_refused_total{{reason=\"{reason}\"}}", metrics, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("tsviz_http_requests_refused_total{reason=\"unauthenticated\"} 0", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("tsviz_http_requests_refused_total{reason=\"forbidden\"} 0", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecurityKeys_Admin_NamesAndRolesWithoutHashes()
    {
        using var admin = secured.Client(secured.Keys[Roles.Admin]);
        string body = await admin.GetStringAsync(new Uri("/api/security/keys", UriKind.Relative));
        var keys = JsonDocument.Parse(body).RootElement.GetProperty("keys").EnumerateArray().Select(k => (k.GetProperty("name").GetString(), k.GetProperty("role").GetString())).ToList();
        Assert.Contains(("engineer", "engineer"), keys);
        Assert.Contains(("flood", "operator"), keys);
        Assert.DoesNotContain("sha256:", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Whoami_ApiKey_NameRoleMethod()
    {
        using var http = secured.Client(null);
        http.DefaultRequestHeaders.Add("X-Api-Key", secured.Keys[Roles.Operator]);
        var me = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/whoami", UriKind.Relative))).RootElement;
        Assert.Equal(("operator", "operator", "api_key", "on"),
            (me.GetProperty("name").GetString(), me.GetProperty("role").GetString(), me.GetProperty("method").GetString(), me.GetProperty("authentication").GetString()));
    }

    [Fact]
    public async Task Unauthenticated_ProblemDetailsAndBearerChallenge()
    {
        using var http = secured.Client(null);
        using var response = await http.GetAsync(new Uri("/api/alerts", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("unauthenticated", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("reason").GetString());
    }

    /// <summary>A route template against a test path: {id}, {name}, {file} stand for one segment.</summary>
    private static bool Matches(string route, string path)
    {
        var r = route.TrimEnd('/').Split('/');
        var p = path.TrimEnd('/').Split('/');
        return r.Length == p.Length && r.Zip(p).All(x => x.First == x.Second || x.First.StartsWith('{'));
    }
}
