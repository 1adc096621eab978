using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Infrastructure.Storage;
using Console.Web.Access;

namespace Console.Web.Api;

internal static class SnapshotEndpoints
{
    public static IEndpointRouteBuilder MapSnapshotEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(AuthSetup.DownloadPath + "/{target}/{file}", DownloadAsync)
            .RequireAuthorization(Policies.Operator)
            .WithMetadata(new AuditedEndpoint(AuditActions.Download, route =>
            {
                // The same cluster and subject as the catalog's own entry for a download.
                var file = route["file"]?.ToString();
                return (SnapshotName.TryParse(file ?? "", out var name) ? name.Cluster.Value : null, $"{route["target"]}/{file}");
            }));
        return endpoints;
    }

    /// <summary>
    /// Streams one copy of a snapshot to the browser (Operator), never holding it in memory; audited. As stored, or
    /// with <c>?as=db</c> the raw snapshot inside a sealed copy (decrypted with the configured identities, decompressed).
    /// </summary>
    private static async Task<IResult> DownloadAsync(string target, string file, string? @as, HttpContext context, SnapshotStores stores, SnapshotCatalog catalog, CancellationToken cancellationToken)
    {
        if (!SnapshotName.TryParse(file, out var name) || stores.Find(target) is null)
        {
            return Results.NotFound();
        }

        try
        {
            var opened = @as == "db";
            var stream = await catalog.OpenForDownloadAsync(target, name, opened, context.Actor(), cancellationToken);
            return Results.Stream(stream, "application/octet-stream", opened ? name.RawFileName : name.FileName);
        }
        catch (Infrastructure.Sealing.SealedCopyException ex)
        {
            return Results.Conflict(new { error = ex.Message });
        }
        catch (FileNotFoundException)
        {
            // Either store says "not there" this way.
            return Results.NotFound();
        }
    }
}
