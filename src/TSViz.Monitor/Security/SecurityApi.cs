using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;

namespace TSViz.Monitor.Security;

/// <summary>Who am I (any authenticated identity) and the configured API keys (admin; names and roles, never hashes).</summary>
internal static class SecurityApi
{
    public static void MapSecurityApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var api = app.MapGroup("/api").WithTags("security");
        api.MapGet("/whoami", WhoAmI).WithName("WhoAmI").RequireAuthorization(Roles.Authenticated)
          .WithSummary("The identity of the request: name, role (viewer, operator, engineer, admin), how it was authenticated (api_key, jwt, none) and whether authentication is on.");

        api.MapGet("/security/keys", ListApiKeys).WithName("ApiKeys").RequireAuthorization(Roles.Admin)
          .WithSummary("The configured API keys: names and roles (never their hashes).");
    }

    public static Ok<WhoAmIResponse> WhoAmI(ClaimsPrincipal user, SecurityState state)
        => TypedResults.Ok(new WhoAmIResponse(user.Identity?.Name, Roles.Of(user), Roles.Method(user), state.AuthenticationOff ? "off" : "on"));

    public static Ok<ApiKeysResponse> ListApiKeys(ClaimsPrincipal user, SecurityState state, ILoggerFactory loggers)
    {
        Audit(loggers, user, "list", "api keys");
        return TypedResults.Ok(new ApiKeysResponse([.. state.Settings.ApiKeys.Select(k => new ApiKeyEntry(k.Name, k.Role))]));
    }

    /// <summary>Writes the audit line of a write or an admin action: who (name, role, method) did what to what.</summary>
    public static void Audit(ILoggerFactory loggers, ClaimsPrincipal user, string action, string target)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        ArgumentNullException.ThrowIfNull(user);
        string name = user.Identity?.Name ?? "?";
        string role = Roles.Of(user) ?? "none";
        string method = Roles.Method(user);
        var logger = loggers.CreateLogger("TSViz.Monitor.Security.Audit");
        SecurityLog.Audit(logger, action, target, name, role, method);
    }
}
