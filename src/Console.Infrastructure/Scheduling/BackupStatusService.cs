using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;

namespace Console.Infrastructure.Scheduling;

/// <summary>A status-table row plus the health of the storage targets it writes to, and the replica that ran the last attempt.</summary>
public sealed record BackupStatusRow(BackupHealth Health, IReadOnlyList<StorageHealth> Storage, string? LastReplica = null)
{
    /// <summary>What the drills and verifications say about the cluster's stored copies.</summary>
    public BackupProof Proof { get; init; } = BackupProof.None;
}

/// <summary>
/// Whether a cluster's stored copies are proven to restore: its newest finished drill, the newest that passed (for the
/// RTO), and the copies whose newest verification failed (bit rot, tampering: the periodic re-verification finds them).
/// </summary>
public sealed record BackupProof(DrillVerdict? LastDrill, DrillVerdict? LastPassedDrill, IReadOnlyList<Verification> FailedVerifications)
{
    public static readonly BackupProof None = new(null, null, []);

    /// <summary>The newest drill failed, or a stored copy failed its verification: the row must stand out.</summary>
    public bool Failing => LastDrill is { Outcome: DrillOutcome.Failed } || FailedVerifications.Count > 0;

    /// <summary>"1 copy failed re-verification" and the like; null when none did.</summary>
    public string? VerificationProblem => FailedVerifications.Count switch
    {
        0 => null,
        var n => $"{n} {(n == 1 ? "copy" : "copies")} failed {(FailedVerifications.All(v => v.VerifiedBy == SnapshotCatalog.ReverificationBy) ? "re-verification" : "verification")}: "
            + string.Join("; ", FailedVerifications.Take(3).Select(v => $"{v.Target}/{v.FileName}: {v.Detail}")) + (n > 3 ? "; …" : ""),
    };
}

/// <summary>
/// Builds the backup status table from records, the runner, the scheduler, storage checks and, for clusters with
/// Continuous on, the delta history's recoverable window (absent until continuous capture is registered: then the
/// window is simply not shown).
/// </summary>
public sealed class BackupStatusService(
    ClusterCatalog catalog,
    BackupRecordStore records,
    BackupRunner runner,
    BackupScheduler scheduler,
    StorageHealthMonitor storage,
    SnapshotLedger ledger,
    DrillLedger drills,
    TimeProvider clock,
    IDeltaHistory? history = null)
{
    private readonly DateTimeOffset _startedAt = clock.GetUtcNow();

    public async Task<IReadOnlyList<BackupStatusRow>> GetAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var rows = new List<BackupStatusRow>();
        var lastDrills = await drills.LatestByClusterAsync(cancellationToken).ConfigureAwait(false);
        var failedVerifications = (await ledger.FailedVerificationsAsync(cancellationToken).ConfigureAwait(false))
            .ToLookup(v => SnapshotName.TryParse(v.FileName, out var file) ? file.Cluster.Value : null);
        foreach (var cluster in catalog.All)
        {
            var name = cluster.Name.Value;
            var summary = await records.SummaryAsync(name, cancellationToken).ConfigureAwait(false);
            var next = await scheduler.NextRunAsync(name, cancellationToken).ConfigureAwait(false);
            var window = cluster.Backup.Continuous.Enabled && history is not null
                ? await history.WindowAsync(cluster.Name, cancellationToken).ConfigureAwait(false)
                : null;
            var health = BackupHealth.Evaluate(
                name,
                cluster.Backup,
                BackupSchedule.Period(cluster.Backup, now),
                summary.LastAttempt,
                summary.LastSuccess,
                summary.ConsecutiveFailures,
                runner.RunningFor(name) is not null,
                next,
                now,
                scheduleSince: _startedAt,
                configurationError: scheduler.ErrorFor(name),
                window: window);
            var targets = cluster.Backup.Targets
                .Select(t => storage.Current.GetValueOrDefault(t) ?? new StorageHealth(t, false, "not checked yet", null, DateTimeOffset.MinValue))
                .ToList();
            var (lastDrill, lastPassed) = lastDrills.GetValueOrDefault(name);
            rows.Add(new BackupStatusRow(health, targets, summary.LastAttempt?.Replica) { Proof = new BackupProof(lastDrill, lastPassed, [.. failedVerifications[name]]) });
        }

        return rows;
    }
}
