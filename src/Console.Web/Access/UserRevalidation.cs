using System.Security.Claims;
using Console.Infrastructure.Access;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace Console.Web.Access;

/// <summary>
/// An open page (Blazor circuit) keeps the identity it started with; this checks it against the database every
/// 30 seconds, so a disabled user, a new password or a changed role ends the session there too. (Every action is
/// checked against the database anyway; this is what stops reading.)
/// </summary>
internal sealed class UserRevalidation(ILoggerFactory loggerFactory, UserStore users) : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(30);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken) =>
        await IsCurrentAsync(users, authenticationState.User, cancellationToken);

    /// <summary>True when the principal's user still exists, is enabled, and has the same security stamp.</summary>
    public static async Task<bool> IsCurrentAsync(UserStore users, ClaimsPrincipal principal, CancellationToken cancellationToken)
    {
        if (principal.UserId() is not { } id)
        {
            return principal.Identity?.IsAuthenticated != true;
        }

        var user = await users.GetAsync(id, cancellationToken);
        return user is { Disabled: false } && string.Equals(user.SecurityStamp, principal.FindFirstValue(Principals.StampClaim), StringComparison.Ordinal);
    }
}

/// <summary>The signed-in actor of the current circuit, for service calls from components.</summary>
public sealed class CurrentActor(AuthenticationStateProvider authentication, IHttpContextAccessor http)
{
    public async Task<Console.Domain.Access.Actor> GetAsync()
    {
        var state = await authentication.GetAuthenticationStateAsync();

        // In a circuit the accessor holds the connection's request (or nothing): only its remote address is used.
        return state.User.ToActor(http.HttpContext?.Connection.RemoteIpAddress?.ToString()) ?? throw new Console.Domain.Access.AccessDeniedException("you are not signed in");
    }

    /// <summary>Whether to show controls for <paramref name="role"/>; the services decide for themselves.</summary>
    public async Task<bool> HasAsync(Console.Domain.Access.Role role)
    {
        var state = await authentication.GetAuthenticationStateAsync();
        return state.User.RoleOf() >= role;
    }
}
