using System.Globalization;
using System.Security.Claims;
using Console.Domain.Access;
using Console.Infrastructure.Access;

namespace Console.Web.Access;

/// <summary>Claims of a signed-in user or token, and the <see cref="Actor"/> the services are called with.</summary>
internal static class Principals
{
    public const string KindClaim = "console:kind";
    public const string StampClaim = "console:stamp";
    public const string MustChangePasswordClaim = "console:must-change-password";

    public static ClaimsPrincipal ForUser(LocalUser user, string scheme)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, user.Id.ToString(CultureInfo.InvariantCulture)),
            new(ClaimTypes.Name, user.Name),
            new(ClaimTypes.Role, user.Role.ToString()),
            new(KindClaim, nameof(ActorKind.User)),
            new(StampClaim, user.SecurityStamp),
        };
        if (user.MustChangePassword)
        {
            claims.Add(new Claim(MustChangePasswordClaim, "true"));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    public static ClaimsPrincipal ForToken(Actor token, string scheme)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, token.Name),
            new(ClaimTypes.Role, token.Role.ToString()),
            new(KindClaim, nameof(ActorKind.ApiToken)),
        };
        if (token.Id is { } id)
        {
            claims.Add(new Claim(ClaimTypes.NameIdentifier, id.ToString(CultureInfo.InvariantCulture)));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    public static bool MustChangePassword(this ClaimsPrincipal principal) => principal.HasClaim(MustChangePasswordClaim, "true");

    public static long? UserId(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(KindClaim) == nameof(ActorKind.User) && long.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>The role a principal claims (the services check it again against the database).</summary>
    public static Role? RoleOf(this ClaimsPrincipal principal) =>
        principal.Identity?.IsAuthenticated == true && Roles.TryParse(principal.FindFirstValue(ClaimTypes.Role), out var role) ? role : null;

    /// <summary>The actor for service calls, or null for an anonymous principal.</summary>
    public static Actor? ToActor(this ClaimsPrincipal principal, string? address)
    {
        if (principal.RoleOf() is not { } role || principal.Identity?.Name is not { } name || !Enum.TryParse<ActorKind>(principal.FindFirstValue(KindClaim), out var kind))
        {
            return null;
        }

        long? id = long.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
        return new Actor(name, role, kind, id) { Address = address };
    }

    /// <summary>The actor of an HTTP request that passed authorization.</summary>
    public static Actor Actor(this HttpContext context) =>
        context.User.ToActor(context.Connection.RemoteIpAddress?.ToString()) ?? throw new AccessDeniedException("this request is not signed in");
}
