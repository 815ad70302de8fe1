using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Monitor.Security;
using TSViz.Monitor.Settings;
using TSViz.Monitor.Tests.Cli;
using TSViz.Monitor.Tests.Jobs;
using TSViz.Monitor.Tests.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Security;

/// <summary>The secure default: off only on loopback with nothing configured; refused beyond it; HTTPS from PEM files; keys.</summary>
public sealed class SecureDefaultTests
{
    private static List<string> Failures(string url, Action<SecuritySettings>? configure = null)
    {
        var options = new MonitorOptions { HttpUrl = url };
        configure?.Invoke(options.Security);
        var result = new SecurityOptionsValidator().Validate(null, options);
        return result.Failures?.ToList() ?? [];
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://localhost:8080")]
    [InlineData("http://[::1]:8080")]
    public void Validate_LoopbackWithNothingConfigured_Accepted(string url) => Assert.Empty(Failures(url));

    [Fact]
    public void Validate_WildcardPlainHttpWithoutAuthentication_NamesEveryKeyToSet()
    {
        string all = string.Join("\n", Failures("http://0.0.0.0:8080"));
        Assert.Contains("Monitor:Security:ApiKeys", all, StringComparison.Ordinal);
        Assert.Contains("Monitor:Security:Jwt:Authority", all, StringComparison.Ordinal);
        Assert.Contains("Monitor:Security:AllowPlainHttp", all, StringComparison.Ordinal);
        Assert.Contains("Monitor:Security:AllowedHosts", all, StringComparison.Ordinal);
        foreach (string url in new[] { "http://*:8080", "http://+:8080", "http://[::]:8080", "http://192.168.10.5:8080" })
        {
            Assert.Contains(Failures(url), f => f.Contains("Monitor:Security:ApiKeys", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Validate_NetworkBindWithKeyPlainHttpAllowedAndHosts_Accepted()
    {
        Assert.Empty(Failures("http://0.0.0.0:8080", s =>
        {
            s.ApiKeys = [new ApiKeySettings { Name = "prometheus", Role = "viewer", Hash = ApiKeys.Hash(ApiKeys.Create()) }];
            s.AllowPlainHttp = true;
            s.AllowedHosts = ["monitor.plant.example"];
        }));
    }

    [Fact]
    public void Validate_BadKeys_NamesTheKey()
    {
        var failures = Failures("http://127.0.0.1:8080", s => s.ApiKeys =
        [
            new ApiKeySettings { Name = "a", Role = "root", Hash = ApiKeys.Hash("x") },
            new ApiKeySettings { Name = "a", Role = "viewer", Hash = "sha256:tooshort" },
            new ApiKeySettings { Name = "b", Role = "viewer", Hash = "tsviz_pasted-the-key-itself" },
        ]);
        Assert.Contains(failures, f => f.StartsWith("Monitor:Security:ApiKeys:0:Role must be one of viewer, operator, engineer, admin", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Monitor:Security:ApiKeys:1:Name must be unique", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Monitor:Security:ApiKeys:1:Hash", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Monitor:Security:ApiKeys:2:Hash", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("pasted-the-key", StringComparison.Ordinal)); // never echoed into a log
        Assert.Contains(Failures("https://127.0.0.1:8443"), f => f.StartsWith("Monitor:Security:CertificateFile", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_BoundToEveryAddressWithoutAuthentication_ExitCode2NamingTheKeys()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var monitor = MonitorProcess.Start(new Dictionary<string, string>
        {
            ["Monitor:HttpUrl"] = $"http://0.0.0.0:{Loopback.FreePort().ToString(CultureInfo.InvariantCulture)}",
            ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
        }, RepositoryPaths.Root);
        Assert.Equal(2, await monitor.TerminateOnExitAsync(cancel.Token));
        var error = monitor.Log.Split('\n').Single(l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("Monitor:Security:ApiKeys", error, StringComparison.Ordinal);
        Assert.Contains("Monitor:Security:Jwt:Authority", error, StringComparison.Ordinal);
        Assert.Contains("Monitor:Security:AllowedHosts", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Loopback_NothingConfigured_AnonymousAdmin_ButCsrfAndHostStillGuarded()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var monitor = await JobsTestMonitor.StartAsync(Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"), simulator: false, cancel.Token,
            new Dictionary<string, string?> { ["Monitor:Jobs:Enabled"] = "false" });
        var me = await monitor.GetAsync("/api/whoami", cancel.Token);
        Assert.Equal(("anonymous", "admin", "none", "off"),
            (me.GetProperty("name").GetString(), me.GetProperty("role").GetString(), me.GetProperty("method").GetString(), me.GetProperty("authentication").GetString()));

        // A page on another site posting a form to the monitor (the browser sends it with Origin: that site).
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["kind"] = "false_alarm" });
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/alerts/nope/feedback", UriKind.Relative)) { Content = form };
        request.Headers.Add("Origin", "http://evil.example");
        using (var refused = await monitor.Http.SendAsync(request, cancel.Token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("csrf", JsonDocument.Parse(await refused.Content.ReadAsStringAsync(cancel.Token)).RootElement.GetProperty("reason").GetString());
            SecurityTests.AssertSecurityHeaders(refused, "csrf refusal");
        }

        // The same form without an Origin (an old browser) is refused too: it is not JSON and carries no credentials.
        using (var plain = await monitor.Http.PostAsync(new Uri("/api/alerts/nope/feedback", UriKind.Relative), new FormUrlEncodedContent([new("kind", "confirm")]), cancel.Token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, plain.StatusCode);
        }

        using (var json = await monitor.Http.PostAsJsonAsync(new Uri("/api/alerts/nope/feedback", UriKind.Relative), new { kind = "confirm" }, cancel.Token))
        {
            Assert.Equal(HttpStatusCode.NotFound, json.StatusCode); // served
        }

        // DNS rebinding: a name pointing at 127.0.0.1 that is not the monitor's.
        using var rebound = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/windows", UriKind.Relative));
        rebound.Headers.Host = "rebind.attacker.example";
        using var host = await monitor.Http.SendAsync(rebound, cancel.Token);
        Assert.Equal(HttpStatusCode.BadRequest, host.StatusCode);
        string metrics = await monitor.MetricsAsync(cancel.Token);
        Assert.Contains("tsviz_http_requests_refused_total{reason=\"csrf\"} 2", metrics, StringComparison.Ordinal);
        Assert.Contains("tsviz_http_requests_refused_total{reason=\"host\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Https_SelfSignedPemCertificate_ServedWithHsts()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        string directory = RepositoryPaths.NewTempDirectory();
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        string certFile = Path.Combine(directory, "monitor.pem"), keyFile = Path.Combine(directory, "monitor.key");
        await File.WriteAllTextAsync(certFile, certificate.ExportCertificatePem(), cancel.Token);
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem(), cancel.Token);
        int port = Loopback.FreePort();
        string adminKey = ApiKeys.Create();
        var app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:HttpUrl"] = $"https://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
            ["Monitor:Security:CertificateFile"] = certFile,
            ["Monitor:Security:CertificateKeyFile"] = keyFile,
            ["Monitor:Security:ApiKeys:0:Name"] = "ops",
            ["Monitor:Security:ApiKeys:0:Role"] = "admin",
            ["Monitor:Security:ApiKeys:0:Hash"] = ApiKeys.Hash(adminKey),
            ["Monitor:History:Path"] = Path.Combine(directory, "history.db"),
            ["Monitor:Mqtt:Port"] = Loopback.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Monitor:Simulator:Enabled"] = "false",
            ["Monitor:Jobs:Enabled"] = "false",
        });
        await app.StartAsync(cancel.Token);
        try
        {
            var thumbprint = certificate.GetCertHashString();
            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, served, _, _) => served?.GetCertHashString() == thumbprint };
            using var http = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}") };
            http.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
            using var response = await http.GetAsync(new Uri("/api/whoami", UriKind.Relative), cancel.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("max-age=31536000", string.Join(",", response.Headers.GetValues("Strict-Transport-Security")));
            SecurityTests.AssertSecurityHeaders(response, "https");
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task KeysCreate_PrintsTheKeyOnceWithAMatchingEntry_BadRoleExit2()
    {
        var (exit, output, _) = await VerbRunner.Run("keys", "create", "--name", "prometheus", "--role", "viewer", "--index", "2");
        Assert.Equal(0, exit);
        string key = output.Split('\n')[0].Split(": ")[^1].Trim();
        Assert.StartsWith("tsviz_", key, StringComparison.Ordinal);
        Assert.Equal(6 + 43, key.Length); // 32 bytes in unpadded base64url
        var entry = JsonDocument.Parse(output.Split('\n').Single(l => l.StartsWith('{'))).RootElement;
        Assert.Equal(("prometheus", "viewer", ApiKeys.Hash(key)), (entry.GetProperty("Name").GetString(), entry.GetProperty("Role").GetString(), entry.GetProperty("Hash").GetString()));
        Assert.Contains($"TSVIZ_Monitor__Security__ApiKeys__2__Hash={ApiKeys.Hash(key)}", output, StringComparison.Ordinal);
        Assert.Single(output.Split('\n'), l => l.Contains(key, StringComparison.Ordinal));

        var (bad, _, error) = await VerbRunner.Run("keys", "create", "--name", "x", "--role", "root");
        Assert.Equal(2, bad);
        Assert.StartsWith("error: --role must be one of viewer, operator, engineer, admin", error, StringComparison.Ordinal);
    }
}
