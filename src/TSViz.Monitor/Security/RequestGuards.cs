using Microsoft.Net.Http.Headers;

namespace TSViz.Monitor.Security;

/// <summary>
/// The outermost middleware, ahead of ASP.NET's host filtering: sets the security headers on every response (pages,
/// static files, API, problems, /metrics, /health, and the host filter's own 400), and counts and logs the requests the
/// host filter refused.
/// </summary>
internal sealed class SecurityEdgeStartupFilter : IStartupFilter
{
    /// <summary>Set by the first middleware of the application: the request passed host filtering.</summary>
    public const string HostPassed = "tsviz.host-passed";

    // The page builds inline style attributes (bar widths, colours), so style-src allows them; no inline script runs.
    public const string ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers.XFrameOptions = "DENY";
                if (context.Request.IsHttps)
                {
                    headers.StrictTransportSecurity = "max-age=31536000";
                }

                return Task.CompletedTask;
            });
            await nextMiddleware(context).ConfigureAwait(false);
            if (!context.Items.ContainsKey(HostPassed) && context.Response.StatusCode == StatusCodes.Status400BadRequest)
            {
                await Refusals.WriteAsync(context, StatusCodes.Status400BadRequest, "host", "Host not allowed",
                    $"This monitor does not answer to the host '{context.Request.Host.Host}' (Monitor:Security:AllowedHosts).").ConfigureAwait(false);
            }
        });
        next(app);
    };
}

/// <summary>
/// Cross-site request forgery: a state-changing request must carry a JSON body or credentials in a header (neither
/// of which a plain HTML form can send), and, when it names an Origin, come from the monitor's own origin or one of
/// Monitor:Security:AllowedOrigins.
/// </summary>
internal static class CsrfGuard
{
    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var request = context.Request;
        if (HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method) || HttpMethods.IsDelete(request.Method))
        {
            string? problem = null;
            bool json = MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
            bool credentials = request.Headers.Authorization.Count > 0 || request.Headers.ContainsKey(ApiKeyAuthenticationHandler.Header);
            if (!json && !credentials)
            {
                problem = $"A {request.Method} needs a JSON body (Content-Type: application/json) or an Authorization or X-Api-Key header; got Content-Type '{request.ContentType}'.";
            }
            else if (request.Headers.Origin.FirstOrDefault() is { } origin)
            {
                string own = $"{request.Scheme}://{request.Host}";
                var allowed = context.RequestServices.GetRequiredService<SecurityState>().Settings.AllowedOrigins;
                if (!string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) && !allowed.Any(a => string.Equals(a.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase)))
                {
                    problem = $"Origin '{origin}' is neither this monitor ({own}) nor listed in Monitor:Security:AllowedOrigins.";
                }
            }

            if (problem is not null)
            {
                await Refusals.WriteAsync(context, StatusCodes.Status403Forbidden, "csrf", "Cross-site request refused", problem).ConfigureAwait(false);
                return;
            }
        }

        await next().ConfigureAwait(false);
    }
}
