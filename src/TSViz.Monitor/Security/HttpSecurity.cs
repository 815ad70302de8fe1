using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Security;

/// <summary>
/// The HTTP side of issue 14: authentication (API keys, OpenID Connect JWT, or off on loopback), role policies,
/// host filtering, CSRF, security headers, HTTPS and per-identity rate limits. docs/security.md.
/// </summary>
internal static class HttpSecurity
{
    /// <summary>Rate-limit policy of state-changing requests (Security:RateLimit:WritesPerMinute).</summary>
    public const string Writes = "writes";

    /// <summary>Rate-limit policy of the on-demand explanations (Security:RateLimit:CostlyPerMinute).</summary>
    public const string Costly = "costly";

    private const string Selector = "Tsviz";
    private const string JwtScheme = JwtBearerDefaults.AuthenticationScheme;

    /// <param name="builder">The monitor's web application builder.</param>
    /// <param name="security">Monitor:Security as bound when the host is built (its certificate files configure Kestrel).</param>
    public static WebApplicationBuilder AddTsvizHttpSecurity(this WebApplicationBuilder builder, SecuritySettings security)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(security);
        var services = builder.Services;
        services.AddSingleton<SecurityState>();

        // Which scheme authenticates a request: none needed when authentication is off; an API key when one is sent;
        // otherwise a JWT (or nothing, which the policies answer with 401).
        services.AddAuthentication(Selector)
            .AddPolicyScheme(Selector, "API key, JWT, or off on loopback", o => o.ForwardDefaultSelector = context =>
            {
                var state = context.RequestServices.GetRequiredService<SecurityState>();
                if (state.AuthenticationOff)
                {
                    return OpenAuthenticationHandler.SchemeName;
                }

                bool bearer = context.Request.Headers.Authorization.FirstOrDefault()?.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) == true;
                return ApiKeyAuthenticationHandler.Presented(context.Request) is null && bearer && state.Settings.Jwt.Enabled
                    ? JwtScheme
                    : ApiKeyAuthenticationHandler.SchemeName;
            })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, OpenAuthenticationHandler>(OpenAuthenticationHandler.SchemeName, null)
            .AddJwtBearer(JwtScheme);
        services.AddOptions<JwtBearerOptions>(JwtScheme).Configure<IOptions<MonitorOptions>>((o, monitor) => ConfigureJwt(o, monitor.Value.Security.Jwt));

        var authorization = services.AddAuthorizationBuilder();
        foreach (string role in Roles.All)
        {
            authorization.AddPolicy(role, p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement(role)));
        }

        authorization.AddPolicy(Roles.Authenticated, p => p.RequireAuthenticatedUser());
        // An endpoint mapped without a declared role still needs viewer (a test also fails on it).
        authorization.SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().AddRequirements(new RoleRequirement(Roles.Viewer)).Build());
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, AuthorizationRefusals>();

        // DNS rebinding: ASP.NET's host filter (already in the pipeline) with the monitor's host names.
        services.AddOptions<HostFilteringOptions>().Configure<IOptions<MonitorOptions>>((o, monitor) =>
        {
            o.AllowedHosts = HttpBinding.TryParse(monitor.Value.HttpUrl, out var binding) ? [.. binding!.AllowedHosts(monitor.Value.Security.AllowedHosts)] : ["localhost"];
            o.AllowEmptyHosts = false;
            o.IncludeFailureMessage = false; // the edge middleware answers with problem details
        });
        services.Insert(0, ServiceDescriptor.Transient<IStartupFilter, SecurityEdgeStartupFilter>());

        services.AddRateLimiter(o =>
        {
            o.AddPolicy(Writes, context => PerIdentity(context, s => s.WritesPerMinute));
            o.AddPolicy(Costly, context => PerIdentity(context, s => s.CostlyPerMinute));
            o.OnRejected = async (rejected, _) =>
            {
                var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 60;
                rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Refusals.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests, "rate_limited", "Too many requests",
                    $"{rejected.HttpContext.User.Identity?.Name} is over its budget of this kind of request per minute (Monitor:Security:RateLimit); retry after {seconds} s.").ConfigureAwait(false);
            };
        });

        // HTTPS from PEM files (Kestrel serves the certificate for every https address).
        string? certificate = security.CertificateFile;
        string? key = security.CertificateKeyFile;
        if (!string.IsNullOrWhiteSpace(certificate) && !string.IsNullOrWhiteSpace(key))
        {
            builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = X509Certificate2.CreateFromPemFile(certificate, key)));
        }

        return builder;
    }

    /// <summary>The request pipeline's guards, after routing: host mark, CSRF, authentication, authorization, rate limits.</summary>
    public static WebApplication UseTsvizHttpSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use((context, next) =>
        {
            context.Items[SecurityEdgeStartupFilter.HostPassed] = true;
            return next(context);
        });
        app.Use((context, next) => CsrfGuard.InvokeAsync(context, () => next(context)));
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var state = app.Services.GetRequiredService<SecurityState>();
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("TSViz.Monitor.Security");
            string url = app.Services.GetRequiredService<IOptions<MonitorOptions>>().Value.HttpUrl;
            if (state.AuthenticationOff)
            {
                SecurityLog.AuthenticationOff(logger, url);
            }
            else
            {
                SecurityLog.AuthenticationOn(logger, state.Keys.Count, state.Settings.Jwt.Enabled ? state.Settings.Jwt.Authority ?? "signing key file" : "off", url);
            }
        });
        return app;
    }

    /// <summary>One fixed one-minute window per identity (name and method), so one client's flood never spends another's budget.</summary>
    private static RateLimitPartition<string> PerIdentity(HttpContext context, Func<RateLimitSettings, int> perMinute)
    {
        var settings = context.RequestServices.GetRequiredService<SecurityState>().Settings.RateLimit;
        string identity = $"{Roles.Method(context.User)}:{context.User.Identity?.Name}";
        return RateLimitPartition.GetFixedWindowLimiter(identity, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = perMinute(settings),
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });
    }

    private static void ConfigureJwt(JwtBearerOptions o, JwtSettings jwt)
    {
        if (!jwt.Enabled)
        {
            return;
        }

        o.MapInboundClaims = false; // keep the provider's claim names (roles, preferred_username)
        o.Authority = string.IsNullOrWhiteSpace(jwt.Authority) ? null : jwt.Authority;
        o.Audience = jwt.Audience;
        o.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
        o.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateAudience = true,
            ValidAudience = jwt.Audience,
            ValidateIssuer = o.Authority is not null,
            ValidIssuer = o.Authority,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            NameClaimType = jwt.NameClaim,
            RoleClaimType = jwt.RoleClaim,
        };
        if (!string.IsNullOrWhiteSpace(jwt.SigningKeyFile))
        {
            // The key is given: no discovery document is fetched (the provider need not be reachable).
            o.TokenValidationParameters.IssuerSigningKey = SigningKey(File.ReadAllText(jwt.SigningKeyFile));
            o.Configuration = new OpenIdConnectConfiguration { Issuer = o.Authority };
        }

        o.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                var principal = context.Principal!;
                string name = principal.FindFirst(jwt.NameClaim)?.Value ?? principal.FindFirst("sub")?.Value ?? "?";
                string? role = principal.FindAll(jwt.RoleClaim).Select(c => c.Value).Where(Roles.IsKnown).MaxBy(Roles.Rank);
                context.Principal = Roles.Principal(name, role, "jwt");
                return Task.CompletedTask;
            },
        };
    }

    private static SecurityKey SigningKey(string pem)
    {
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (ArgumentException)
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
    }
}
