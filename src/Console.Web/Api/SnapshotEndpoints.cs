using Console.Domain.Backups;
using Console.Infrastructure.Storage;

namespace Console.Web.Api;

internal static class SnapshotEndpoints
{
    public static IEndpointRouteBuilder MapSnapshotEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/snapshots/download/{target}/{file}", DownloadAsync);
        return endpoints;
    }

    /// <summary>Streams one copy of a snapshot to the browser, never holding it in memory.</summary>
    private static async Task<IResult> DownloadAsync(string target, string file, SnapshotStores stores, CancellationToken cancellationToken)
    {
        if (!SnapshotName.TryParse(file, out var name) || stores.Find(target) is not { } store)
        {
            return Results.NotFound();
        }

        try
        {
            var stream = await store.OpenReadAsync(name, cancellationToken);
            return Results.Stream(stream, "application/octet-stream", name.FileName);
        }
        catch (FileNotFoundException)
        {
            return Results.NotFound();
        }
        catch (Amazon.S3.AmazonS3Exception ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return Results.NotFound();
        }
    }
}
