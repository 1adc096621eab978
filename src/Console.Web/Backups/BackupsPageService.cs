using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Scheduling;

namespace Console.Web.Backups;

/// <summary>The span the dashboard's charts (and the records' period filter) cover.</summary>
public enum DashboardPeriod
{
    Day,
    Week,
    Month,
    Quarter,
}

/// <summary>One cluster on the dashboard: how safe it is now (last good backup, what would be lost), how reliable, where its bytes are, when next.</summary>
public sealed record ClusterDashboard(
    string Cluster,
    BackupPolicy Policy,
    BackupRecord? LastGood,
    TimeSpan? WouldLose,
    ClusterBackupStats Stats,
    IReadOnlyList<TargetUsage> Stored,
    DateTimeOffset? NextRun)
{
    /// <summary>Continuous backup's window, RPO and breaks; null when Continuous is off for the cluster.</summary>
    public ContinuousHealth? Continuous { get; init; }
}

/// <summary>Everything the Backups page shows at one moment: per cluster, and the chosen period's timeline (a point per bucket, empty ones included).</summary>
public sealed record BackupDashboard(DateTimeOffset Now, DashboardPeriod Period, string? Cluster, IReadOnlyList<ClusterDashboard> Clusters, IReadOnlyList<TimelinePoint> Timeline);

public sealed record BackupRecordDetail(BackupRecord Record, IReadOnlyList<BackupCopy> Copies);

/// <summary>
/// The Backups pages' one service: the dashboard's figures (each an aggregate computed by SQLite, see decision record
/// 0018), the records, one record's detail, Back up now, and the live progress of runs (immutable updates).
/// </summary>
public sealed class BackupsPageService(
    BackupRecordStore records,
    SnapshotLedger ledger,
    ClusterCatalog catalog,
    BackupScheduler scheduler,
    BackupRunner runner,
    BackupProgressFeed feed,
    TimeProvider clock,
    IDeltaHistory? history = null)
{
    public IReadOnlyList<string> Clusters => [.. catalog.All.Select(c => c.Name.Value)];

    public DateTimeOffset Now => clock.GetUtcNow();

    public static (TimeSpan Span, TimelineBucket Bucket) Window(DashboardPeriod period) => period switch
    {
        DashboardPeriod.Day => (TimeSpan.FromHours(24), TimelineBucket.Hour),
        DashboardPeriod.Week => (TimeSpan.FromDays(7), TimelineBucket.Day),
        DashboardPeriod.Quarter => (TimeSpan.FromDays(90), TimelineBucket.Day),
        _ => (TimeSpan.FromDays(30), TimelineBucket.Day),
    };

    /// <summary>Where the period starts, now: the charts' first bucket, and the records' period filter.</summary>
    public DateTimeOffset PeriodStart(DashboardPeriod period) => clock.GetUtcNow() - Window(period).Span;

    /// <param name="cluster">The charts' cluster; null for all of them. The per-cluster figures are always for every cluster.</param>
    public async Task<BackupDashboard> LoadAsync(DashboardPeriod period, string? cluster, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var specs = catalog.All;
        var stats = await records.ClusterStatsAsync([.. specs.Select(s => s.Name.Value)], now, cancellationToken);
        var clusters = new List<ClusterDashboard>(specs.Count);
        foreach (var (spec, stat) in specs.Zip(stats))
        {
            var name = spec.Name.Value;
            var stored = await records.StoredBytesAsync(name, spec.Backup.Targets, cancellationToken);
            var next = await scheduler.NextRunAsync(name, cancellationToken);
            var continuous = spec.Backup.Continuous.Enabled && history is not null
                ? ContinuousHealth.Evaluate(spec.Backup.Continuous, await history.WindowAsync(spec.Name, cancellationToken), now)
                : null;

            // With continuous backup, what a loss now would cost is the RPO, not the age of the last full snapshot.
            var wouldLose = continuous?.Rpo ?? (stat.LastGood is { } good ? now - good.StartedAt : (TimeSpan?)null);
            clusters.Add(new ClusterDashboard(name, spec.Backup, stat.LastGood, wouldLose, stat, stored, next) { Continuous = continuous });
        }

        var (span, bucket) = Window(period);
        var points = await records.TimelineAsync(cluster, now - span, bucket, cancellationToken);
        return new BackupDashboard(now, period, cluster, clusters, Fill(points, now - span, now, bucket));
    }

    /// <param name="period">When set, only records started within it, up to now.</param>
    public Task<BackupPage> RecordsAsync(BackupQuery query, DashboardPeriod? period, CancellationToken cancellationToken) =>
        records.QueryAsync(period is { } p ? query with { From = PeriodStart(p) } : query, cancellationToken);

    public async Task<BackupRecordDetail?> DetailAsync(long id, CancellationToken cancellationToken) =>
        await records.GetAsync(id, cancellationToken) is { } record
            ? new BackupRecordDetail(record, await ledger.CopiesAsync(id, cancellationToken))
            : null;

    /// <summary>A manual backup as <paramref name="actor"/> (Operator; refused and audited otherwise).</summary>
    public Task<BackupStart> BackUpNowAsync(string cluster, Actor actor, CancellationToken cancellationToken) =>
        runner.StartAsync(cluster, BackupTrigger.Manual, actor, cancellationToken);

    /// <summary>The run in flight for the cluster (on any replica sharing the database), or the last one since the console started.</summary>
    public BackupProgress? Latest(string cluster) => feed.Latest(cluster);

    /// <summary>Every run's updates, on the publisher's thread: come back through InvokeAsync and dispose the subscription.</summary>
    public IDisposable Subscribe(Action<BackupProgress> onUpdate) => feed.Subscribe(onUpdate);

    /// <summary>Buckets without attempts are points too, so charts keep a steady time axis.</summary>
    private static List<TimelinePoint> Fill(IReadOnlyList<TimelinePoint> points, DateTimeOffset from, DateTimeOffset now, TimelineBucket bucket)
    {
        var step = bucket == TimelineBucket.Hour ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
        var start = new DateTimeOffset(from.UtcDateTime.Ticks - (from.UtcDateTime.Ticks % step.Ticks), TimeSpan.Zero);
        var byStart = points.ToDictionary(p => p.Start);
        var filled = new List<TimelinePoint>();
        for (var t = start; t <= now; t += step)
        {
            filled.Add(byStart.GetValueOrDefault(t) ?? TimelinePoint.Empty(t));
        }

        return filled;
    }
}
