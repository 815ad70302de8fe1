using Microsoft.AspNetCore.Authorization;

namespace TSViz.Monitor.Security;

/// <summary>The identity must hold <see cref="Role"/> or a higher one (viewer &lt; operator &lt; engineer &lt; admin).</summary>
internal sealed class RoleRequirement(string role) : AuthorizationHandler<RoleRequirement>, IAuthorizationRequirement
{
    public string Role { get; } = role;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RoleRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(requirement);
        if (context.User.Identity?.IsAuthenticated == true && Roles.Allows(context.User, requirement.Role))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
