using System.Security.Cryptography;
using System.Text;
using Console.Domain.Configuration;
using Microsoft.Extensions.Options;

namespace Console.Web.Api;

public enum ApiRole
{
    Viewer = 0,
    Operator = 1,
    Admin = 2,
}

public sealed record ApiCaller(string Name, ApiRole Role);

/// <summary>
/// Checks <c>Authorization: Bearer &lt;token&gt;</c> against the sha256 hashes in <c>Console:Auth:ApiTokens</c>.
/// Only hashes are configured, so the tokens themselves are never stored by the console.
/// </summary>
internal sealed class ApiTokens(IOptions<ConsoleSettings> settings)
{
    private readonly IReadOnlyList<(byte[] Hash, ApiCaller Caller)> _tokens = [.. settings.Value.Auth.ApiTokens
        .Select(t => (Convert.FromHexString(t.Sha256!), new ApiCaller(t.Name!, Enum.Parse<ApiRole>(t.Role!))))];

    public ApiCaller? Authenticate(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Prefix = "Bearer ";
        if (!header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || header.Length == Prefix.Length)
        {
            return null;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(header[Prefix.Length..].Trim()));
        ApiCaller? match = null;
        foreach (var (expected, caller) in _tokens)
        {
            // Compare against every token in constant time so timing says nothing about which one came close.
            if (CryptographicOperations.FixedTimeEquals(expected, hash))
            {
                match = caller;
            }
        }

        return match;
    }
}

internal static class ApiAuthorization
{
    /// <summary>Refuses callers without a valid token (401) or without at least <paramref name="role"/> (403).</summary>
    public static TBuilder RequireApiRole<TBuilder>(this TBuilder builder, ApiRole role)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var tokens = context.HttpContext.RequestServices.GetRequiredService<ApiTokens>();
            var caller = tokens.Authenticate(context.HttpContext.Request);
            if (caller is null)
            {
                context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "A valid API token is required", detail: "Send 'Authorization: Bearer <token>' with a token listed (as its sha256) in Console:Auth:ApiTokens.");
            }

            if (caller.Role < role)
            {
                return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: $"The token '{caller.Name}' has the role {caller.Role}; this needs {role}.");
            }

            context.HttpContext.Items[typeof(ApiCaller)] = caller;
            return await next(context);
        });

    public static ApiCaller Caller(this HttpContext context) => (ApiCaller)context.Items[typeof(ApiCaller)]!;
}
