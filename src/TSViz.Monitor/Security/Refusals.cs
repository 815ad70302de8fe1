using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace TSViz.Monitor.Security;

/// <summary>
/// Every refusal answered the same way: problem details saying why (with <c>reason</c>), counted in
/// tsviz_http_requests_refused_total{reason} and logged with the identity and the remote address.
/// </summary>
internal static class Refusals
{
    public static async Task WriteAsync(HttpContext context, int status, string reason, string title, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        var services = context.RequestServices;
        services.GetRequiredService<SecurityState>().Refused(reason);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("TSViz.Monitor.Security");
        string identity = context.User.Identity?.IsAuthenticated == true ? context.User.Identity.Name ?? "?" : "unauthenticated";
        SecurityLog.Refused(logger, context.Request.Method, context.Request.Path, reason, status, identity, context.Connection.RemoteIpAddress?.ToString(), detail);
        if (context.Response.HasStarted)
        {
            return;
        }

        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"tsviz\"";
        }

        await Results.Problem(statusCode: status, title: title, detail: detail, extensions: new Dictionary<string, object?> { ["reason"] = reason })
            .ExecuteAsync(context).ConfigureAwait(false);
    }
}

/// <summary>Answers 401 (no or bad credentials) and 403 (a role too low) with problem details instead of empty bodies.</summary>
internal sealed class AuthorizationRefusals : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler passThrough = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (authorizeResult.Challenged)
        {
            bool presented = context.Request.Headers.Authorization.Count > 0 || context.Request.Headers.ContainsKey(ApiKeyAuthenticationHandler.Header);
            return Refusals.WriteAsync(context, StatusCodes.Status401Unauthorized, "unauthenticated", "Authentication required",
                presented
                    ? "The credentials sent were not accepted (unknown API key, or a token that is expired, for another audience or not signed by the configured issuer)."
                    : "Send an API key (Authorization: Bearer tsviz_... or X-Api-Key) or an OpenID Connect token (Authorization: Bearer ...).");
        }

        if (authorizeResult.Forbidden)
        {
            string? needed = authorizeResult.AuthorizationFailure?.FailedRequirements.OfType<RoleRequirement>().Select(r => r.Role).MaxBy(Roles.Rank);
            string role = Roles.Of(context.User) ?? "none";
            return Refusals.WriteAsync(context, StatusCodes.Status403Forbidden, "forbidden", "Role too low",
                $"This needs the role {needed ?? "viewer"} or higher; {context.User.Identity?.Name} has the role {role}.");
        }

        return passThrough.HandleAsync(next, context, policy, authorizeResult);
    }
}
