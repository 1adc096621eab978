using Console.Infrastructure.Access;
using Console.Web.Access;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Console.Web.Api;

internal static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // A form post with the page's antiforgery token, so no other site can sign a user out.
        endpoints.MapPost("/account/logout", LogoutAsync).WithMetadata(new RequireAntiforgeryTokenAttribute(true));
        return endpoints;
    }

    private static async Task<IResult> LogoutAsync(HttpContext context, AccountService accounts, CancellationToken cancellationToken)
    {
        if (context.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: false })
        {
            return Results.BadRequest(new { error = "sign out from the console's own pages (the request carried no valid antiforgery token)" });
        }

        if (context.User.ToActor(context.Connection.RemoteIpAddress?.ToString()) is { } actor)
        {
            await accounts.SignOutAsync(actor, cancellationToken);
        }

        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Results.Redirect(AuthSetup.LoginPath);
    }
}
