using Console.Infrastructure.Access;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Console.Web.Access;

/// <summary>
/// Endpoint metadata: how a refusal at this endpoint is named in the audit log, in the same words the service behind it
/// uses for its own entries (so the log's filters find both), and which cluster and subject the request was about.
/// </summary>
internal sealed record AuditedEndpoint(string Action, Func<RouteValueDictionary, (string? Cluster, string? Subject)> Describe);

/// <summary>
/// The one place where an endpoint's or a page's authorization policy turns away a signed-in caller or a token: the
/// refusal is audited (who, what, which cluster, from where) before the usual 403 or "not allowed" page. Callers who are
/// not signed in at all get a 401 or the sign-in form and no entry (they are nobody yet).
/// </summary>
internal sealed class RefusalAudit(AccessGuard guard) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (authorizeResult.Forbidden && context.User.ToActor(context.Connection.RemoteIpAddress?.ToString()) is { } actor)
        {
            var endpoint = context.GetEndpoint();
            var pattern = endpoint is RouteEndpoint route ? "/" + (route.RoutePattern.RawText ?? "").TrimStart('/') : context.Request.Path.Value ?? "";
            var routeValues = context.Request.RouteValues;
            var (action, (cluster, subject)) = endpoint?.Metadata.GetMetadata<AuditedEndpoint>() is { } audited
                ? (audited.Action, audited.Describe(routeValues))
                : ($"{context.Request.Method} {pattern}", (routeValues.TryGetValue("cluster", out var c) ? c?.ToString() : null, routeValues.Count > 0 ? context.Request.Path.Value : null));
            var needs = string.Join(", ", endpoint?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(d => d.Policy ?? d.Roles).OfType<string>().Distinct() ?? []);
            await guard.RecordRefusalAsync(actor, action, cluster, subject, $"{actor.Label} has the role {actor.Role}; {context.Request.Method} {pattern} needs {(needs.Length == 0 ? "another role" : needs)}");
        }

        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
