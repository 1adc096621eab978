namespace Console.Web.Api;

internal static class HealthEndpoints
{
    /// <summary>Liveness for load balancers and scripts: answers without authentication once the app is serving.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).AllowAnonymous().ExcludeFromDescription();
        return endpoints;
    }
}
