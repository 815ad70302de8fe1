using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace TSViz.Monitor.Security;

/// <summary>
/// Authenticates "Authorization: Bearer tsviz_..." (what Prometheus's authorization.credentials sends) or
/// "X-Api-Key: tsviz_...", against the configured keys' SHA-256 digests.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, SecurityState state)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    /// <summary>The key a request presents, or null.</summary>
    public static string? Presented(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Headers.TryGetValue(Header, out var header) && header.Count > 0)
        {
            return header[0]?.Trim();
        }

        string? authorization = request.Headers.Authorization.FirstOrDefault();
        return authorization is not null && authorization.StartsWith("Bearer " + ApiKeys.Prefix, StringComparison.OrdinalIgnoreCase)
            ? authorization["Bearer ".Length..].Trim()
            : null;
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? presented = Presented(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var key = ApiKeys.Match(presented, state.Keys);
        return Task.FromResult(key is null
            ? AuthenticateResult.Fail("unknown API key")
            : AuthenticateResult.Success(new AuthenticationTicket(Roles.Principal(key.Name, key.Role, "api_key"), SchemeName)));
    }
}

/// <summary>Authentication off (loopback, nothing configured): every request is "anonymous" with every role.</summary>
internal sealed class OpenAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Open";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        => Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(Roles.Principal("anonymous", Roles.Admin, "none"), SchemeName)));
}
