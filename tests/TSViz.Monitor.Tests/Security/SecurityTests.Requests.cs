using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TSViz.Monitor.Security;

namespace TSViz.Monitor.Tests.Security;

/// <summary>JWT sign-in, CSRF, host filtering, security headers, rate limits and the audit trail, on the secured monitor.</summary>
public sealed partial class SecurityTests
{
    [Theory]
    [InlineData("viewer")]
    [InlineData("operator")]
    [InlineData("engineer")]
    [InlineData("admin")]
    public async Task Jwt_ValidTokenOfEachRole_IdentityAndRoleFromItsClaims(string role)
    {
        using var http = secured.Client(secured.Token($"ada.{role}", role));
        var me = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/whoami", UriKind.Relative))).RootElement;
        Assert.Equal(($"ada.{role}", role, "jwt"), (me.GetProperty("name").GetString(), me.GetProperty("role").GetString(), me.GetProperty("method").GetString()));
        using var keys = await http.GetAsync(new Uri("/api/security/keys", UriKind.Relative));
        Assert.Equal(role == Roles.Admin ? HttpStatusCode.OK : HttpStatusCode.Forbidden, keys.StatusCode);
        using var windows = await http.GetAsync(new Uri("/api/windows", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, windows.StatusCode);
    }

    [Fact]
    public async Task Jwt_ExpiredWrongAudienceWrongKey_Unauthenticated()
    {
        using var otherKey = RSA.Create(2048);
        string[] tokens =
        [
            secured.Token("late", Roles.Admin, lifetime: TimeSpan.FromMinutes(-5)),
            secured.Token("elsewhere", Roles.Admin, audience: "another-app"),
            secured.Token("forger", Roles.Admin, key: otherKey),
            "not-a-token",
        ];
        foreach (string token in tokens)
        {
            using var http = secured.Client(token);
            using var response = await http.GetAsync(new Uri("/api/whoami", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Jwt_NoRoleClaim_SignedInButForbidden()
    {
        using var http = secured.Client(secured.Token("nobody", role: null));
        var me = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/whoami", UriKind.Relative))).RootElement;
        Assert.Equal(JsonValueKind.Null, me.GetProperty("role").ValueKind);
        using var response = await http.GetAsync(new Uri("/api/windows", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Csrf_CrossOriginFormPost_Refused()
    {
        using var http = secured.Client(null);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["kind"] = "false_alarm" });
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/alerts/nope/feedback", UriKind.Relative)) { Content = form };
        request.Headers.Add("Origin", "http://evil.example");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("csrf", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Csrf_JsonPostFromAForeignOrigin_RefusedEvenWithAKey_OwnAndAllowedOriginsServed()
    {
        async Task<HttpStatusCode> Post(string? origin)
        {
            using var http = secured.Client(secured.Keys[Roles.Admin]);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/jobs/nope/trigger", UriKind.Relative))
            {
                Content = new StringContent("{}", Encoding.UTF8, "application/json"),
            };
            if (origin is not null)
            {
                request.Headers.Add("Origin", origin);
            }

            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await Post("http://evil.example"));
        Assert.Equal(HttpStatusCode.NotFound, await Post(secured.BaseAddress.GetLeftPart(UriPartial.Authority))); // its own: past the guard
        Assert.Equal(HttpStatusCode.NotFound, await Post("https://hmi.plant.test")); // Security:AllowedOrigins
    }

    [Fact]
    public async Task HostFilter_ForeignHostHeader_400WithProblemAndHeaders()
    {
        using var http = secured.Client(secured.Keys[Roles.Viewer]);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/windows", UriKind.Relative));
        request.Headers.Host = "attacker.example";
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("host", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("reason").GetString());
        AssertSecurityHeaders(response, "host refusal");
        using var local = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/windows", UriKind.Relative));
        local.Headers.Host = $"localhost:{secured.BaseAddress.Port}";
        using var served = await http.SendAsync(local);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task SecurityHeaders_OnEveryKindOfResponse()
    {
        using var http = secured.Client(secured.Keys[Roles.Viewer]);
        using var anonymous = secured.Client(null);
        foreach (var (client, path) in new[] { (anonymous, "/"), (anonymous, "/static/app.js"), (http, "/api/windows"), (http, "/api/alerts/nope"), (anonymous, "/api/windows"), (http, "/metrics"), (anonymous, "/health") })
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            AssertSecurityHeaders(response, path);
            Assert.False(response.Headers.Contains("Strict-Transport-Security"), "no HSTS over plain http");
        }
    }

    [Fact]
    public async Task RateLimit_FloodOfFeedbackByOneKey_429WithRetryAfter_AnotherKeyStillServed()
    {
        using var flood = secured.Client(secured.Keys["flood"]);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (int i = 0; i < SecuredMonitor.WritesPerMinute + 2; i++)
        {
            var response = await flood.PostAsJsonAsync(new Uri("/api/alerts/nope/feedback", UriKind.Relative), new { kind = "confirm" });
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused?.Dispose();
                refused = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.NotFound, SecuredMonitor.WritesPerMinute), statuses.Take(SecuredMonitor.WritesPerMinute));
        Assert.All(statuses.Skip(SecuredMonitor.WritesPerMinute), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        using (refused)
        {
            Assert.InRange(refused!.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
            Assert.Equal("rate_limited", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("reason").GetString());
        }

        using var other = secured.Client(secured.Keys[Roles.Admin]);
        using var served = await other.PostAsJsonAsync(new Uri("/api/alerts/nope/feedback", UriKind.Relative), new { kind = "confirm" });
        Assert.Equal(HttpStatusCode.NotFound, served.StatusCode);
        Assert.Contains("tsviz_http_requests_refused_total{reason=\"rate_limited\"}", await other.GetStringAsync(new Uri("/metrics", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Feedback_AuthorIsTheKeysName_ClientAuthorRefused()
    {
        string alert = await StoredAlertAsync();
        using var http = secured.Client(secured.Keys[Roles.Operator]);
        var path = new Uri($"/api/alerts/{Uri.EscapeDataString(alert)}/feedback", UriKind.Relative);
        using (var spoofed = await http.PostAsJsonAsync(path, new { kind = "false_alarm", author = "the.plant.manager" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, spoofed.StatusCode);
            Assert.Equal("author", JsonDocument.Parse(await spoofed.Content.ReadAsStringAsync()).RootElement.GetProperty("parameter").GetString());
        }

        using (var created = await http.PostAsJsonAsync(path, new { kind = "false_alarm", comment = "valve maintenance" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var stored = JsonDocument.Parse(await http.GetStringAsync(path)).RootElement[0];
        Assert.Equal(("operator", "operator", "api_key"), (stored.GetProperty("author").GetString(), stored.GetProperty("authorRole").GetString(), stored.GetProperty("authorMethod").GetString()));
    }

    [Fact]
    public async Task JobTrigger_RunRecordsWhoTriggeredIt()
    {
        using var http = secured.Client(secured.Token("erin.engineer", Roles.Engineer));
        using (var accepted = await http.PostAsJsonAsync(new Uri("/api/jobs/retention/trigger", UriKind.Relative), new { }))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (true)
        {
            await Task.Delay(200, cancel.Token);
            var jobs = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/jobs", UriKind.Relative), cancel.Token)).RootElement;
            var run = jobs.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == "retention").GetProperty("lastRun");
            if (run.ValueKind == JsonValueKind.Object)
            {
                Assert.Equal("erin.engineer (engineer, jwt)", run.GetProperty("triggeredBy").GetString());
                return;
            }
        }
    }

    internal static void AssertSecurityHeaders(HttpResponseMessage response, string what)
    {
        string Header(string name) => response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "(missing)";
        Assert.True(Header("Content-Security-Policy") == SecurityEdgeStartupFilter.ContentSecurityPolicy, $"{what}: CSP {Header("Content-Security-Policy")}");
        Assert.True(Header("X-Content-Type-Options") == "nosniff", $"{what}: X-Content-Type-Options");
        Assert.True(Header("Referrer-Policy") == "no-referrer", $"{what}: Referrer-Policy");
        Assert.True(Header("X-Frame-Options") == "DENY", $"{what}: X-Frame-Options");
    }

    /// <summary>An alert in the secured monitor's history (written straight to the file, as the live path would).</summary>
    private async Task<string> StoredAlertAsync()
    {
        var store = secured.Monitor.App.Services.GetRequiredService<TSViz.Plugins.History.IHistoryStore>();
        string id = $"m1:{Guid.NewGuid():N}:anomaly-cnn/1.0.0";
        await store.UpsertAlertsAsync([new TSViz.Plugins.History.AlertRecord { Id = id, Machine = "m1", ModelVersion = "anomaly-cnn 1.0.0", Episode = 1, Status = "open", Since = DateTimeOffset.UtcNow, PeakScore = 0.9, PeakWindowId = "w" }], CancellationToken.None);
        return id;
    }
}
