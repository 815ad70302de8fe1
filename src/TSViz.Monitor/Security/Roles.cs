using System.Security.Claims;

namespace TSViz.Monitor.Security;

/// <summary>
/// The roles, each allowed what the one before it may plus more: viewer (read everything), operator (+ feedback on
/// alerts), engineer (+ trigger jobs, the costly inversion and adversarial computations), admin (+ the key list).
/// The authorization policies carry the roles' names.
/// </summary>
internal static class Roles
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";
    public const string Engineer = "engineer";
    public const string Admin = "admin";

    /// <summary>Any authenticated identity, whatever its role (GET /api/whoami).</summary>
    public const string Authenticated = "authenticated";

    /// <summary>Lowest first.</summary>
    public static readonly string[] All = [Viewer, Operator, Engineer, Admin];

    /// <summary>How a request was authenticated: the identity's claim "tsviz:method".</summary>
    public const string MethodClaim = "tsviz:method";

    public static bool IsKnown(string? role) => role is not null && Array.IndexOf(All, role) >= 0;

    /// <summary>0 for viewer .. 3 for admin; -1 for none or unknown.</summary>
    public static int Rank(string? role) => role is null ? -1 : Array.IndexOf(All, role);

    /// <summary>The identity's role (the highest of its role claims), or null.</summary>
    public static string? Of(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        string? best = null;
        foreach (var claim in user.FindAll(ClaimTypes.Role))
        {
            if (Rank(claim.Value) > Rank(best))
            {
                best = claim.Value;
            }
        }

        return best;
    }

    /// <summary>True when the identity holds <paramref name="required"/> or a higher role.</summary>
    public static bool Allows(ClaimsPrincipal user, string required) => Rank(Of(user)) >= Rank(required);

    /// <summary>The monitor's identity: name, one role (or none), and how it was authenticated.</summary>
    public static ClaimsPrincipal Principal(string name, string? role, string method)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name), new(MethodClaim, method) };
        if (role is not null)
        {
            claims.Add(new Claim(ClaimTypes.Role, role));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, method, ClaimTypes.Name, ClaimTypes.Role));
    }

    public static string Method(ClaimsPrincipal user) => user?.FindFirst(MethodClaim)?.Value ?? "none";
}
