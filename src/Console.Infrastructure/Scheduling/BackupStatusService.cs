using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;

namespace Console.Infrastructure.Scheduling;

/// <summary>A status-table row plus the health of the storage targets it writes to, and the replica that ran the last attempt.</summary>
public sealed record BackupStatusRow(BackupHealth Health, IReadOnlyList<StorageHealth> Storage, string? LastReplica = null);

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
    TimeProvider clock,
    IDeltaHistory? history = null)
{
    private readonly DateTimeOffset _startedAt = clock.GetUtcNow();

    public async Task<IReadOnlyList<BackupStatusRow>> GetAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var rows = new List<BackupStatusRow>();
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
            rows.Add(new BackupStatusRow(health, targets, summary.LastAttempt?.Replica));
        }

        return rows;
    }
}
