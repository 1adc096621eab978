using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Backups;

/// <summary>
/// Prunes every target of a cluster by its policy for that target (<see cref="RetentionPlanning"/>), independently, after a backup. Protected snapshots are kept, and
/// so is every local copy whose upload is still pending (it is the only source for the retry). Never throws: what it
/// did, or why it could not, comes back as the note for the backup's record. The ledger follows the store: each
/// deletion marks the backup's copy in that target Deleted, and the listing retention plans from also settles copies the
/// ledger had wrong (a file removed by hand); a target whose listing failed is left as the ledger has it.
/// </summary>
public sealed partial class RetentionPass(SnapshotStores stores, SnapshotLedger ledger, TimeProvider clock, ILogger logger)
{
    private readonly RetentionPlanning _planning = new(stores, ledger, clock);

    /// <param name="justTaken">The snapshot the backup just took (never pruned), if it took one.</param>
    public async Task<string> RunAsync(ClusterSpec spec, string? justTaken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var notes = new List<string>();
        try
        {
            var keep = await _planning.HeldAsync(CancellationToken.None).ConfigureAwait(false);

            // The snapshot just taken is never pruned, even if a file with a later timestamp (a clock stepped back, a
            // copy from another host) makes it look older than the newest.
            if (justTaken is not null)
            {
                keep.TryAdd(justTaken, "just taken");
            }

            foreach (var target in spec.Backup.Targets)
            {
                notes.Add(await PruneTargetAsync(spec, stores.Get(target), keep).ConfigureAwait(false));
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            LogPruneFailed(logger, spec.Name.Value, ex);
            notes.Add($"retention failed (the backup itself succeeded): {StorageErrors.Describe(ex)}");
        }

        return string.Join("; ", notes);
    }

    private async Task<string> PruneTargetAsync(ClusterSpec spec, ISnapshotStore store, IReadOnlyDictionary<string, string> keep)
    {
        try
        {
            var (_, policy, existing, plan, listedAt) = await _planning.PlanAsync(spec, store, keep, CancellationToken.None).ConfigureAwait(false);
            var locked = new List<SnapshotRetainedException>();
            foreach (var (name, reason) in plan.Delete)
            {
                try
                {
                    await store.DeleteAsync(name, CancellationToken.None).ConfigureAwait(false);
                }
                catch (SnapshotRetainedException retained)
                {
                    // Object Lock: the copy stays (and stays stored in the ledger) until the store lets it go; not a failure.
                    LogLocked(logger, spec.Name.Value, retained.Message);
                    locked.Add(retained);
                    continue;
                }

                var now = clock.GetUtcNow();
                await ledger.MarkDeletedAsync(spec.Name.Value, store.Target, name.FileName, $"deleted by retention at {now:u} ({reason})", now, CancellationToken.None).ConfigureAwait(false);
            }

            var deleted = plan.Delete.Where(d => !locked.Exists(l => l.Name == d.Name)).ToList();
            var present = existing.Select(s => s.Name.FileName).Except(deleted.Select(d => d.Name.FileName), StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);
            var settled = await ledger.ReconcileAsync(spec.Name.Value, store.Target, present, listedAt, clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);

            var note = deleted.Count == 0
                ? $"{store.Target} retention ({policy}): nothing to delete, {plan.Keep.Count} kept"
                : $"{store.Target} retention ({policy}): deleted {string.Join(", ", deleted.Select(d => $"{d.Name.FileName} ({d.Reason})"))}; {plan.Keep.Count} kept";
            if (locked.Count > 0)
            {
                note += "; " + string.Join("; ", locked.Select(l => l.Message));
            }

            if (plan.Foreign.Count > 0)
            {
                var names = string.Join(", ", plan.Foreign.Select(f => f.FileName));
                LogForeignSetAside(logger, spec.Name.Value, store.Target, plan.Foreign.Count, names);
                note += $"; set aside {plan.Foreign.Count} file(s) named like snapshots but without a manifest of ours, neither counted nor deleted: {names}";
            }

            if (settled.Missing.Count > 0)
            {
                var names = Some(settled.Missing);
                LogMissingMarked(logger, spec.Name.Value, store.Target, settled.Missing.Count, names);
                note += $"; {settled.Missing.Count} copy(ies) the ledger had as stored are not in the store (removed outside the console, or pruned before deletions were recorded), now recorded as deleted: {names}";
            }

            if (settled.Reappeared.Count > 0)
            {
                var names = Some(settled.Reappeared);
                LogReappearedMarked(logger, spec.Name.Value, store.Target, settled.Reappeared.Count, names);
                note += $"; {settled.Reappeared.Count} copy(ies) recorded as deleted are in the store again, now recorded as stored: {names}";
            }

            return note;
        }
        catch (Exception ex) when (StorageErrors.IsStorageFailure(ex))
        {
            LogPruneFailed(logger, spec.Name.Value, ex);
            return $"{store.Target} retention failed (the backup itself succeeded): {StorageErrors.Describe(ex)}";
        }
    }

    // The first pass after an upgrade finds every copy pruned before deletions were recorded: the note names a few.
    private static string Some(IReadOnlyList<string> names) =>
        names.Count <= 10 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(10))} and {names.Count - 10} more";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention for {Cluster} failed; the backup itself succeeded")]
    private static partial void LogPruneFailed(ILogger logger, string cluster, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention for {Cluster}: {Kept}")]
    private static partial void LogLocked(ILogger logger, string cluster, string kept);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention for {Cluster} in {Target} set aside {Count} file(s) named like snapshots but without a manifest of ours (not counted, not deleted): {Names}")]
    private static partial void LogForeignSetAside(ILogger logger, string cluster, string target, int count, string names);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention for {Cluster} in {Target}: {Count} copy(ies) the ledger had as stored are not in the store, now recorded as deleted: {Names}")]
    private static partial void LogMissingMarked(ILogger logger, string cluster, string target, int count, string names);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention for {Cluster} in {Target}: {Count} copy(ies) recorded as deleted are in the store again, now recorded as stored: {Names}")]
    private static partial void LogReappearedMarked(ILogger logger, string cluster, string target, int count, string names);
}
