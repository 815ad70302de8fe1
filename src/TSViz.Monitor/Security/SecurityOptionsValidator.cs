using Microsoft.Extensions.Options;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Security;

/// <summary>
/// Validates Monitor:HttpUrl and Monitor:Security at start: keys well formed, and the secure default (no
/// network-reachable HTTP without authentication, plain http only when allowed, a wildcard bind only with its host names).
/// Every message names the key and what it accepts.
/// </summary>
internal sealed class SecurityOptionsValidator : IValidateOptions<MonitorOptions>
{
    public ValidateOptionsResult Validate(string? name, MonitorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var security = options.Security;
        void Fail(string key, string rule, object? value) => failures.Add($"{MonitorOptions.Section}:Security:{key} {rule}, got '{value}'");

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < security.ApiKeys.Length; i++)
        {
            var key = security.ApiKeys[i];
            if (string.IsNullOrWhiteSpace(key.Name) || key.Name.Length > 100)
            {
                Fail($"ApiKeys:{i}:Name", "must name the key's user (1-100 characters)", key.Name);
            }
            else if (!names.Add(key.Name))
            {
                Fail($"ApiKeys:{i}:Name", "must be unique among the API keys", key.Name);
            }

            if (!Roles.IsKnown(key.Role))
            {
                Fail($"ApiKeys:{i}:Role", $"must be one of {string.Join(", ", Roles.All)}", key.Role);
            }

            if (ApiKeys.Digest(key.Hash) is null)
            {
                // The value is not echoed: a key pasted here by mistake must not land in a log.
                failures.Add($"{MonitorOptions.Section}:Security:ApiKeys:{i}:Hash must be \"sha256:\" + base64 of 32 bytes, as `keys create` prints it");
            }
        }

        var jwt = security.Jwt;
        if (jwt.Enabled)
        {
            if (string.IsNullOrWhiteSpace(jwt.Audience))
            {
                Fail("Jwt:Audience", "is required with Jwt:Authority or Jwt:SigningKeyFile (the aud the tokens carry)", jwt.Audience);
            }

            if (!string.IsNullOrWhiteSpace(jwt.Authority) && !Uri.TryCreate(jwt.Authority, UriKind.Absolute, out _))
            {
                Fail("Jwt:Authority", "must be the OpenID Connect issuer's URL, e.g. https://login.plant.example/realms/tsviz", jwt.Authority);
            }

            if (!string.IsNullOrWhiteSpace(jwt.SigningKeyFile) && !File.Exists(jwt.SigningKeyFile))
            {
                Fail("Jwt:SigningKeyFile", "must name a readable PEM public key", jwt.SigningKeyFile);
            }

            if (string.IsNullOrWhiteSpace(jwt.RoleClaim))
            {
                Fail("Jwt:RoleClaim", "must name the claim holding the roles, e.g. roles", jwt.RoleClaim);
            }

            if (string.IsNullOrWhiteSpace(jwt.NameClaim))
            {
                Fail("Jwt:NameClaim", "must name the claim holding the user's name, e.g. preferred_username", jwt.NameClaim);
            }
        }

        if (security.RateLimit.WritesPerMinute is < 1 or > 100_000)
        {
            Fail("RateLimit:WritesPerMinute", "must lie in 1..100000", security.RateLimit.WritesPerMinute);
        }

        if (security.RateLimit.CostlyPerMinute is < 1 or > 100_000)
        {
            Fail("RateLimit:CostlyPerMinute", "must lie in 1..100000", security.RateLimit.CostlyPerMinute);
        }

        foreach (string origin in security.AllowedOrigins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/")
            {
                Fail("AllowedOrigins", "entries must be origins such as https://hmi.plant.example (scheme, host, optional port)", origin);
            }
        }

        // An empty value (null in config/monitor.json) means unset.
        bool certificate = !string.IsNullOrWhiteSpace(security.CertificateFile), certificateKey = !string.IsNullOrWhiteSpace(security.CertificateKeyFile);
        foreach (var (key, file, set) in new[] { ("CertificateFile", security.CertificateFile, certificate), ("CertificateKeyFile", security.CertificateKeyFile, certificateKey) })
        {
            if (set && !File.Exists(file))
            {
                Fail(key, "must name a readable PEM file", file);
            }
        }

        if (certificate != certificateKey)
        {
            Fail("CertificateKeyFile", "and Monitor:Security:CertificateFile must be given together", security.CertificateKeyFile);
        }

        if (!HttpBinding.TryParse(options.HttpUrl, out var binding))
        {
            failures.Add($"{MonitorOptions.Section}:HttpUrl must be an http(s) URL such as http://127.0.0.1:8080, got '{options.HttpUrl}'");
            return Result(failures);
        }

        if (binding!.IsHttps && !certificate)
        {
            Fail("CertificateFile", "is required for an https HttpUrl (PEM certificate, with Monitor:Security:CertificateKeyFile)", security.CertificateFile);
        }

        if (!binding.IsLoopback)
        {
            if (security.ApiKeys.Length == 0 && !jwt.Enabled)
            {
                failures.Add($"{MonitorOptions.Section}:HttpUrl '{options.HttpUrl}' is reachable from the network: configure authentication "
                    + $"({MonitorOptions.Section}:Security:ApiKeys, see `keys create`, or {MonitorOptions.Section}:Security:Jwt:Authority), or bind to 127.0.0.1");
            }

            if (!binding.IsHttps && !security.AllowPlainHttp)
            {
                failures.Add($"{MonitorOptions.Section}:HttpUrl '{options.HttpUrl}' serves plain http on the network: use https (with "
                    + $"{MonitorOptions.Section}:Security:CertificateFile and CertificateKeyFile), or set {MonitorOptions.Section}:Security:AllowPlainHttp to true (behind a TLS proxy)");
            }

            if (binding.IsWildcard && !security.AllowedHosts.Any(h => !string.IsNullOrWhiteSpace(h)))
            {
                failures.Add($"{MonitorOptions.Section}:Security:AllowedHosts must list the host names clients use (e.g. monitor.plant.example) "
                    + $"when {MonitorOptions.Section}:HttpUrl binds every address ('{options.HttpUrl}')");
            }
        }

        return Result(failures);
    }

    private static ValidateOptionsResult Result(List<string> failures) => failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
}
