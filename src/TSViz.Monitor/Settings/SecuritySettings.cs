namespace TSViz.Monitor.Settings;

/// <summary>
/// Who may use the monitor's HTTP endpoints (section Monitor:Security). Authentication is off only on loopback with no
/// key and no JWT authority configured; bound to anything else the monitor refuses to start without it.
/// </summary>
public sealed class SecuritySettings
{
    /// <summary>API keys of machines and scripts (Prometheus, the `jobs` verb, a plant's MES): name, role and the key's hash.</summary>
    public ApiKeySettings[] ApiKeys { get; set; } = [];

    /// <summary>OpenID Connect bearer tokens for people.</summary>
    public JwtSettings Jwt { get; set; } = new();

    /// <summary>Serve plain http on a non-loopback address (behind a TLS-terminating proxy, or a trusted cell network).</summary>
    public bool AllowPlainHttp { get; set; }

    /// <summary>PEM certificate (with its chain) served by Kestrel when HttpUrl is https, with <see cref="CertificateKeyFile"/>.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="CertificateFile"/>.</summary>
    public string? CertificateKeyFile { get; set; }

    /// <summary>
    /// Host names the monitor answers to (Host header), besides HttpUrl's host (and localhost, 127.0.0.1 and [::1] on
    /// loopback); required for a wildcard bind (0.0.0.0, [::], *, +). Any other Host is refused with 400 (DNS rebinding).
    /// </summary>
    public string[] AllowedHosts { get; set; } = [];

    /// <summary>Origins (scheme://host[:port]) besides the monitor's own that may send state-changing requests.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    public RateLimitSettings RateLimit { get; set; } = new();
}

/// <summary>One API key: who it is, what it may do, and the SHA-256 of the key (the key itself is never stored).</summary>
public sealed class ApiKeySettings
{
    public string Name { get; set; } = "";

    /// <summary>viewer, operator, engineer or admin.</summary>
    public string Role { get; set; } = "";

    /// <summary>"sha256:" + base64 of the SHA-256 of the whole key, as `keys create` prints it.</summary>
    public string Hash { get; set; } = "";
}

/// <summary>JWT bearer tokens from an OpenID Connect provider.</summary>
public sealed class JwtSettings
{
    /// <summary>The issuer (its /.well-known/openid-configuration gives the signing keys); tokens must carry it as iss.</summary>
    public string? Authority { get; set; }

    /// <summary>The aud tokens must carry (the monitor's client or API id at the provider).</summary>
    public string? Audience { get; set; }

    /// <summary>Claim holding the user's roles (a string or an array; the highest known role counts).</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>Claim holding the name stored as the author of feedback and written in the audit log.</summary>
    public string NameClaim { get; set; } = "preferred_username";

    /// <summary>A PEM public key that signs the tokens: for providers not reachable at start, and for tests. Without it the keys come from the Authority.</summary>
    public string? SigningKeyFile { get; set; }

    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>JWT is configured when an authority or a signing key is.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) || !string.IsNullOrWhiteSpace(SigningKeyFile);
}

/// <summary>Per-identity request budgets (ASP.NET Core rate limiter; beyond them 429 with Retry-After).</summary>
public sealed class RateLimitSettings
{
    /// <summary>State-changing requests (feedback, job triggers) per identity per minute.</summary>
    public int WritesPerMinute { get; set; } = 30;

    /// <summary>On-demand explanations (influence, trace, inversion, adversarial) per identity per minute.</summary>
    public int CostlyPerMinute { get; set; } = 60;
}
