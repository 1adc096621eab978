using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;

namespace Console.Infrastructure.Backups;

/// <summary>One target's snapshots as retention sees them at <see cref="ListedAt"/>, and its plan for them.</summary>
public sealed record TargetRetentionPlan(string Target, RetentionPolicy Policy, IReadOnlyList<StoredSnapshot> Listed, RetentionPlan Plan, DateTimeOffset ListedAt);

/// <summary>
/// The one way retention plans a target (list, decide which copies the console vouches for, plan with the target's
/// policy): the retention pass acts on it, the Snapshots page previews it, so what the page says the next prune removes
/// is what it will remove. Reads only.
/// </summary>
public sealed class RetentionPlanning(SnapshotStores stores, SnapshotLedger ledger, TimeProvider clock)
{
    /// <summary>Snapshots kept whatever the policy, and why: protected ones, and local copies whose upload is pending (the only source for the retry).</summary>
    public async Task<Dictionary<string, string>> HeldAsync(CancellationToken cancellationToken)
    {
        var held = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pending in await ledger.PendingUploadsAsync(cancellationToken).ConfigureAwait(false))
        {
            held[pending.FileName] = $"{pending.Target} upload pending";
        }

        foreach (var name in await ledger.ProtectedAsync(clock.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            held[name] = RetentionPlanner.ProtectedReason;
        }

        return held;
    }

    /// <summary>
    /// What the next prune of <paramref name="spec"/> would do in each of its targets, without deleting anything. A target
    /// that cannot be listed now is left out (whoever shows the preview has its own listing fail, in words).
    /// </summary>
    public async Task<IReadOnlyList<TargetRetentionPlan>> PreviewAsync(ClusterSpec spec, IReadOnlyDictionary<string, string> held, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var plans = new List<TargetRetentionPlan>();
        foreach (var store in spec.Backup.Targets.Select(stores.Find).OfType<ISnapshotStore>())
        {
            try
            {
                plans.Add(await PlanAsync(spec, store, held, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (StorageErrors.IsStorageFailure(ex) && !cancellationToken.IsCancellationRequested)
            {
                // Left out: a preview is advice, and the store's failure is reported where it is listed.
            }
        }

        return plans;
    }

    /// <summary>Lists <paramref name="store"/> and plans it by the cluster's policy for that target; storage failures propagate.</summary>
    public async Task<TargetRetentionPlan> PlanAsync(ClusterSpec spec, ISnapshotStore store, IReadOnlyDictionary<string, string> held, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(store);

        // Only copies the console can vouch for are counted: a manifest of ours beside it, or a record in the ledger.
        // A look-alike (a random file named like a snapshot, dated in the future) would otherwise push real ones out.
        var listedAt = clock.GetUtcNow();
        var existing = await store.ListAsync(spec.Name, withManifests: true, cancellationToken).ConfigureAwait(false);
        var known = await ledger.KnownFileNamesAsync(spec.Name.Value, cancellationToken).ConfigureAwait(false);
        known.UnionWith(existing.Where(s => s.Manifest is { } m && m.FileName == s.Name.FileName && m.Cluster == spec.Name.Value).Select(s => s.Name.FileName));
        var policy = spec.Backup.RetentionFor(store.Target);
        var plan = RetentionPlanner.Plan(existing.Select(s => s.Name.FileName), spec.Name, policy, clock.GetUtcNow(), known, held);
        return new TargetRetentionPlan(store.Target, policy, existing, plan, listedAt);
    }
}
