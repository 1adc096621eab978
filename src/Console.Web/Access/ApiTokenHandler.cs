using System.Text.Encodings.Web;
using Console.Infrastructure.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Console.Web.Access;

/// <summary>
/// <c>Authorization: Bearer &lt;token&gt;</c> for automation: tokens made on the Users page (stored as sha256) and those
/// listed as sha256 in <c>Console:Auth:ApiTokens</c>. Answers 401 / 403 with a JSON problem, never a login redirect.
/// </summary>
internal sealed class ApiTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AccountService accounts) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";
    private const string Prefix = "Bearer ";

    public static bool HasBearer(HttpRequest request) =>
        request.Headers.Authorization.ToString().StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var actor = await accounts.AuthenticateTokenAsync(header[Prefix.Length..], Context.Connection.RemoteIpAddress?.ToString(), Context.RequestAborted);
        return actor is null
            ? AuthenticateResult.Fail("the API token is not valid")
            : AuthenticateResult.Success(new AuthenticationTicket(Principals.ForToken(actor, SchemeName), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => Problems.UnauthorizedAsync(Context);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => Problems.ForbiddenAsync(Context);
}

/// <summary>The API's answers to callers without a valid token (401) or without the role (403).</summary>
internal static class Problems
{
    public static Task UnauthorizedAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return context.Response.WriteAsJsonAsync(
            new { title = "A valid API token is required", status = 401, detail = "Send 'Authorization: Bearer <token>' with a token made on the Users page or listed (as its sha256) in Console:Auth:ApiTokens." },
            (System.Text.Json.JsonSerializerOptions?)null,
            "application/problem+json");
    }

    public static Task ForbiddenAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return context.Response.WriteAsJsonAsync(
            new { title = $"The role {context.User.RoleOf()} may not do this", status = 403, detail = "Viewer reads; Operator also backs up, pauses, verifies and downloads; Admin also restores and manages settings, users and tokens." },
            (System.Text.Json.JsonSerializerOptions?)null,
            "application/problem+json");
    }
}
