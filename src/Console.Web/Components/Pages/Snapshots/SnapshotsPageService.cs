using Console.Domain.Access;
using Console.Domain.Clusters;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Drills;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;

namespace Console.Web.Components.Pages.Snapshots;

/// <summary>The snapshots in the stores at one moment, or why they could not be listed.</summary>
public sealed record SnapshotListing(IReadOnlyList<SnapshotEntry> Entries, DateTimeOffset Now, string? Error = null)
{
    /// <summary>What the next prune does with each copy, by file and target; a copy not in it is not retention's to count.</summary>
    public IReadOnlyDictionary<(string File, string Target), CopyRetention> Retention { get; init; } = new Dictionary<(string, string), CopyRetention>();
}

/// <summary>One copy as retention sees it: kept, with every reason, or removed by the next prune (<see cref="PruneReason"/>).</summary>
public sealed record CopyRetention(IReadOnlyList<string> KeptBecause, string? PruneReason);

/// <summary>
/// The Snapshots page's one service: every snapshot of every cluster in every target, read from the stores, and what an
/// operator does with them (verify or drill a copy, protect from retention, rebuild the history); the catalog and the
/// drill service check the role.
/// </summary>
public sealed class SnapshotsPageService(SnapshotCatalog snapshots, ClusterCatalog clusters, RetentionPlanning retention, IRestoreDrills drills, TimeProvider clock)
{
    /// <summary>The drill running on this console now, or null.</summary>
    public DrillProgress? Drilling => drills.Current;

    /// <summary>Raised when a drill starts, changes phase or ends; the page re-renders (and re-reads the verdicts at the end).</summary>
    public event Action? DrillChanged
    {
        add => drills.Changed += value;
        remove => drills.Changed -= value;
    }

    public IReadOnlyList<string> ClusterNames => [.. clusters.All.Select(c => c.Name.Value)];

    /// <summary>The snapshots of <paramref name="cluster"/> (all when null); a store that cannot be read is an error in words.</summary>
    public async Task<SnapshotListing> ListAsync(string? cluster, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        try
        {
            var entries = await snapshots.ListAsync(cluster is null ? null : ClusterName.Parse(cluster), cancellationToken);
            return new SnapshotListing(entries, now) { Retention = await PreviewRetentionAsync(cluster, cancellationToken) };
        }
        catch (IOException ex)
        {
            return new SnapshotListing([], now, $"Listing the stores failed: {ex.Message}");
        }
    }

    /// <summary>The plan the next retention pass would make for each cluster in view and each of its targets (nothing is deleted).</summary>
    private async Task<Dictionary<(string File, string Target), CopyRetention>> PreviewRetentionAsync(string? cluster, CancellationToken cancellationToken)
    {
        var preview = new Dictionary<(string File, string Target), CopyRetention>();
        var held = await retention.HeldAsync(cancellationToken);
        foreach (var spec in clusters.All.Where(c => cluster is null || c.Name.Value == cluster))
        {
            foreach (var target in await retention.PreviewAsync(spec, held, cancellationToken))
            {
                foreach (var kept in target.Plan.Keep)
                {
                    preview[(kept.FileName, target.Target)] = new CopyRetention(kept.Reasons, null);
                }

                foreach (var (name, reason) in target.Plan.Delete)
                {
                    preview[(name.FileName, target.Target)] = new CopyRetention([], reason);
                }
            }
        }

        return preview;
    }

    public Task<Verification> VerifyAsync(SnapshotEntry entry, SnapshotCopy copy, Actor by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(copy);
        return snapshots.VerifyAsync(copy.Target, entry.Name, by, cancellationToken);
    }

    /// <summary>Queues a restore drill of one copy (the drill service checks the role and audits); its answer in words.</summary>
    public Task<DrillRequest> DrillAsync(SnapshotEntry entry, SnapshotCopy copy, Actor by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(copy);
        return drills.RequestAsync(entry.Name, copy.Target, by, cancellationToken);
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
