using Console.Domain.Clusters;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Continuous;

/// <summary>
/// Deltas are pruned only with the full snapshot they extend: in each target, a segment whose last revision is below
/// the revision of the oldest full snapshot that target still keeps (with a manifest of ours) can never be replayed,
/// so it is deleted and the ledger follows. A target holding no snapshot with a known revision is left alone. Runs
/// beside retention (which deletes snapshots on its own schedule): the watcher calls it after retention could have run.
/// </summary>
public sealed partial class DeltaPruning(SnapshotStores stores, DeltaLedger ledger, ILogger<DeltaPruning> logger)
{
    /// <returns>The segments deleted, per target.</returns>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> PruneAsync(ClusterSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var deleted = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var store in spec.Backup.Targets.Select(stores.Find).OfType<ISnapshotStore>())
        {
            try
            {
                deleted[store.Target] = await PruneTargetAsync(spec, store, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (StorageErrors.IsStorageFailure(ex) && !cancellationToken.IsCancellationRequested)
            {
                LogPruneFailed(logger, spec.Name.Value, store.Target, StorageErrors.Describe(ex));
            }
        }

        return deleted;
    }

    private async Task<IReadOnlyList<string>> PruneTargetAsync(ClusterSpec spec, ISnapshotStore store, CancellationToken cancellationToken)
    {
        var kept = await store.ListAsync(spec.Name, withManifests: true, cancellationToken).ConfigureAwait(false);
        var oldest = kept
            .Where(s => s.Manifest is { } m && m.Cluster == spec.Name.Value && m.FileName == s.Name.FileName && m.Revision is not null)
            .Select(s => s.Manifest!.Revision!.Value)
            .DefaultIfEmpty(0)
            .Min();
        if (oldest <= 0)
        {
            return [];
        }

        var deleted = new List<string>();
        foreach (var segment in await store.ListSegmentsAsync(spec.Name, cancellationToken).ConfigureAwait(false))
        {
            if (segment.Name.LastRevision >= oldest)
            {
                continue;
            }

            await store.DeleteSegmentAsync(segment.Name, cancellationToken).ConfigureAwait(false);
            await ledger.ForgetCopyAsync(spec.Name.Value, segment.Name.FileName, store.Target, cancellationToken).ConfigureAwait(false);
            deleted.Add(segment.Name.FileName);
        }

        if (deleted.Count > 0)
        {
            LogPruned(logger, spec.Name.Value, store.Target, deleted.Count, oldest);
        }

        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Continuous backup of {Cluster}: deleted {Count} delta segment(s) in {Target} ending before revision {Revision}, the oldest full snapshot kept there")]
    private static partial void LogPruned(ILogger logger, string cluster, string target, int count, long revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Continuous backup of {Cluster}: pruning delta segments in {Target} failed: {Error}")]
    private static partial void LogPruneFailed(ILogger logger, string cluster, string target, string error);
}
