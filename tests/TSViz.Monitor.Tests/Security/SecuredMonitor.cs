using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TSViz.Monitor.Security;
using TSViz.Monitor.Tests.Jobs;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Security;

/// <summary>
/// The monitor on 127.0.0.1 with authentication on: one API key per role (plus "flood", an operator key for the rate
/// limit test), and JWTs of an in-process RSA key whose public half is Security:Jwt:SigningKeyFile. Jobs on, simulator off.
/// </summary>
public sealed class SecuredMonitor : IAsyncLifetime
{
    public const string Audience = "tsviz-monitor";
    public const string Issuer = "https://idp.plant.test/realms/tsviz";
    public const int WritesPerMinute = 5;

    private readonly RSA signing = RSA.Create(2048);
    private JobsTestMonitor? monitor;

    /// <summary>Key per name: viewer, operator, engineer, admin, flood.</summary>
    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);

    internal JobsTestMonitor Monitor => monitor!;

    public Uri BaseAddress => Monitor.Http.BaseAddress!;

    public async Task InitializeAsync()
    {
        string directory = RepositoryPaths.NewTempDirectory();
        string publicKey = Path.Combine(directory, "idp-public.pem");
        await File.WriteAllTextAsync(publicKey, signing.ExportSubjectPublicKeyInfoPem());
        var settings = new Dictionary<string, string?>
        {
            ["Monitor:Security:Jwt:Authority"] = Issuer,
            ["Monitor:Security:Jwt:Audience"] = Audience,
            ["Monitor:Security:Jwt:SigningKeyFile"] = publicKey,
            ["Monitor:Security:RateLimit:WritesPerMinute"] = WritesPerMinute.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Security:AllowedOrigins:0"] = "https://hmi.plant.test",
        };
        string[] names = [.. Roles.All, "flood"];
        for (int i = 0; i < names.Length; i++)
        {
            string key = ApiKeys.Create();
            Keys[names[i]] = key;
            settings[$"Monitor:Security:ApiKeys:{i}:Name"] = names[i];
            settings[$"Monitor:Security:ApiKeys:{i}:Role"] = i < Roles.All.Length ? names[i] : Roles.Operator;
            settings[$"Monitor:Security:ApiKeys:{i}:Hash"] = ApiKeys.Hash(key);
        }

        monitor = await JobsTestMonitor.StartAsync(Path.Combine(directory, "history.db"), simulator: false, CancellationToken.None, settings);
    }

    /// <summary>A client of the monitor sending <paramref name="credential"/> as a bearer (null: none).</summary>
    public HttpClient Client(string? credential)
    {
        var http = new HttpClient { BaseAddress = BaseAddress };
        if (credential is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }

        return http;
    }

    /// <summary>A token as an OpenID Connect provider would issue it; every part can be spoiled by the caller.</summary>
    public string Token(string user, string? role, string audience = Audience, TimeSpan? lifetime = null, RSA? key = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["preferred_username"] = user, ["sub"] = user + "-id" };
        if (role is not null)
        {
            claims["roles"] = new[] { role };
        }

        var expires = now + (lifetime ?? TimeSpan.FromMinutes(10));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = expires.AddMinutes(-20),
            NotBefore = expires.AddMinutes(-20),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key ?? signing), SecurityAlgorithms.RsaSha256),
        });
    }

    public async Task DisposeAsync()
    {
        if (monitor is not null)
        {
            await monitor.DisposeAsync();
        }

        signing.Dispose();
    }
}
