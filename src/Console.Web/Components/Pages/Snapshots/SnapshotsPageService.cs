using Console.Domain.Access;
using Console.Domain.Clusters;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;

namespace Console.Web.Components.Pages.Snapshots;

/// <summary>The snapshots in the stores at one moment, or why they could not be listed.</summary>
public sealed record SnapshotListing(IReadOnlyList<SnapshotEntry> Entries, DateTimeOffset Now, string? Error = null);

/// <summary>
/// The Snapshots page's one service: every snapshot of every cluster in every target, read from the stores, and what an
/// operator does with them (verify a copy, protect from retention, rebuild the history); the catalog checks the role.
/// </summary>
public sealed class SnapshotsPageService(SnapshotCatalog snapshots, ClusterCatalog clusters, TimeProvider clock)
{
    public IReadOnlyList<string> ClusterNames => [.. clusters.All.Select(c => c.Name.Value)];

    /// <summary>The snapshots of <paramref name="cluster"/> (all when null); a store that cannot be read is an error in words.</summary>
    public async Task<SnapshotListing> ListAsync(string? cluster, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        try
        {
            return new SnapshotListing(await snapshots.ListAsync(cluster is null ? null : ClusterName.Parse(cluster), cancellationToken), now);
        }
        catch (IOException ex)
        {
            return new SnapshotListing([], now, $"Listing the stores failed: {ex.Message}");
        }
    }

    public Task<Verification> VerifyAsync(SnapshotEntry entry, SnapshotCopy copy, Actor by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(copy);
        return snapshots.VerifyAsync(copy.Target, entry.Name, by, cancellationToken);
    }

    public Task ToggleProtectionAsync(SnapshotEntry entry, Actor by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Protected ? snapshots.UnprotectAsync(entry.Name, by, cancellationToken) : snapshots.ProtectAsync(entry.Name, by, cancellationToken);
    }

    /// <summary>Records every snapshot with a manifest that the database does not know; how many were added.</summary>
    public Task<int> RebuildHistoryAsync(Actor by, CancellationToken cancellationToken) => snapshots.RebuildHistoryAsync(by, cancellationToken);

    /// <summary>Where the browser downloads a copy (the endpoint streams it, audited, to operators).</summary>
    public static string DownloadHref(SnapshotEntry entry, SnapshotCopy copy) => $"snapshots/download/{copy.Target}/{entry.Name.FileName}";

    /// <summary>The raw <c>.db</c> inside a sealed copy, opened by the console (decrypted with its identities, decompressed).</summary>
    public static string DownloadOpenedHref(SnapshotEntry entry, SnapshotCopy copy) => DownloadHref(entry, copy) + "?as=db";
}
