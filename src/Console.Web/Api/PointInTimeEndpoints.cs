using System.Globalization;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Web.Access;
using Microsoft.Extensions.Options;

namespace Console.Web.Api;

internal static class PointInTimeEndpoints
{
    public const string ShaHeader = "X-Snapshot-Sha256";
    public const string RevisionHeader = "X-Snapshot-Revision";

    public static IEndpointRouteBuilder MapPointInTimeEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/clusters/{name}/point-in-time", ExportAsync)
            .RequireAuthorization(Policies.Admin)
            .WithMetadata(new AuditedEndpoint(AuditActions.PointInTimeExport, route => (route["name"]?.ToString(), null)));
        return endpoints;
    }

    /// <summary>
    /// Builds the state of a cluster at <c>?revision=R</c> or <c>?time=</c> (ISO-8601) as a verified snapshot and
    /// streams it (Admin; audited). The build goes to a temp file under DataDir, deleted once the response is sent.
    /// </summary>
    private static async Task<IResult> ExportAsync(string name, string? revision, string? time, HttpContext context, ClusterCatalog clusters, IPointInTimeBuilder builder, AccessGuard guard, IOptions<ConsoleSettings> settings, CancellationToken cancellationToken)
    {
        if (!ClusterName.TryParse(name, out var cluster, out _) || clusters.Find(name) is null)
        {
            return Results.NotFound(new { error = $"there is no cluster named '{name}'" });
        }

        if (Parse(revision, time) is not { } target)
        {
            return Results.BadRequest(new { error = "name exactly one point in time: ?revision=R (a revision number above 0) or ?time=T (ISO-8601, e.g. 2026-12-02T13:45:00Z)" });
        }

        var dir = Directory.CreateDirectory(Path.Combine(Path.GetFullPath(settings.Value.DataDir), "point-in-time")).FullName;
        var output = Path.Combine(dir, $"export-{Guid.NewGuid():N}.db");
        PointInTimeResult result;
        try
        {
            result = await guard.AuditedAsync(
                context.Actor(),
                Role.Admin,
                AuditActions.PointInTimeExport,
                cluster.Value,
                target.ToString(),
                () => builder.BuildAsync(cluster, target, output, null, null, cancellationToken),
                r => (AuditOutcome.Succeeded, string.Create(CultureInfo.InvariantCulture, $"revision {r.Revision}, {r.KeyCount} keys, sha256 {r.Sha256}, from {r.BaseSnapshot} and {r.RevisionsReplayed} replayed revisions")),
                cancellationToken);
        }
        catch (PointInTimeException ex)
        {
            File.Delete(output);
            return Results.BadRequest(new { error = ex.Message });
        }
        catch (AccessDeniedException)
        {
            File.Delete(output);
            return Results.Forbid();
        }

        context.Response.Headers[ShaHeader] = result.Sha256;
        context.Response.Headers[RevisionHeader] = result.Revision.ToString(CultureInfo.InvariantCulture);
        var stream = new FileStream(output, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 20, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        return Results.Stream(stream, "application/octet-stream", string.Create(CultureInfo.InvariantCulture, $"{cluster.Value}_rev{result.Revision}.db"));
    }

    private static PointInTimeTarget? Parse(string? revision, string? time)
    {
        if (revision is not null && time is null)
        {
            return long.TryParse(revision, NumberStyles.None, CultureInfo.InvariantCulture, out var r) && r > 0 ? PointInTimeTarget.AtRevision(r) : null;
        }

        if (time is not null && revision is null)
        {
            return DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? PointInTimeTarget.AtTime(t) : null;
        }

        return null;
    }
}
