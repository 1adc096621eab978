using Console.Domain.Backups;
using Dapper;

namespace Console.Infrastructure.Persistence;

/// <summary>How long one point of a timeline covers.</summary>
public enum TimelineBucket
{
    Hour,
    Day,
}

/// <summary>A cluster's record as a dashboard shows it: its newest good backup, and how its attempts went over 7 and 30 days.</summary>
public sealed record ClusterBackupStats(string Cluster, BackupRecord? LastGood, int Finished7Days, int Good7Days, int Finished30Days, int Good30Days)
{
    /// <summary>Good (succeeded, or partially: a copy exists) among finished attempts; null without any.</summary>
    public double? SuccessRate7Days => Finished7Days == 0 ? null : (double)Good7Days / Finished7Days;

    public double? SuccessRate30Days => Finished30Days == 0 ? null : (double)Good30Days / Finished30Days;
}

/// <summary>
/// The attempts started within one bucket: outcomes, and over its good ones the average snapshot size and duration and
/// the throughput (bytes over seconds, summed, so a long backup weighs more than a short one).
/// </summary>
public sealed record TimelinePoint(
    DateTimeOffset Start,
    int Succeeded,
    int PartiallySucceeded,
    int Failed,
    int Interrupted,
    double? AverageSizeBytes,
    double? AverageDurationSeconds,
    double? BytesPerSecond)
{
    public static TimelinePoint Empty(DateTimeOffset start) => new(start, 0, 0, 0, 0, null, null, null);
}

/// <summary>The copies of a cluster's snapshots that a target holds, as the ledger records them, and their bytes.</summary>
public sealed record TargetUsage(string Target, int Copies, long Bytes);

// The dashboard's figures, each computed by SQLite (GROUP BY, LIMIT over an index): no record is loaded to be counted.
public sealed partial class BackupRecordStore
{
    private const string Good = "('Succeeded', 'PartiallySucceeded')";

    /// <summary>Newest good backup and success counts over the 7 and 30 days before <paramref name="now"/>, per cluster.</summary>
    public async Task<IReadOnlyList<ClusterBackupStats>> ClusterStatsAsync(IReadOnlyList<string> clusters, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clusters);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // Running attempts have no outcome yet, so they count on neither side of a rate.
            var counts = (await connection.QueryAsync<(string Cluster, long Finished7, long Good7, long Finished30, long Good30)>(
                $"""
                SELECT cluster,
                    SUM(CASE WHEN started_at >= @since7 AND status <> 'Running' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN started_at >= @since7 AND status IN {Good} THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status <> 'Running' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status IN {Good} THEN 1 ELSE 0 END)
                FROM backups WHERE started_at >= @since30 AND started_at <= @now GROUP BY cluster
                """,
                new { since7 = Text(now.AddDays(-7)), since30 = Text(now.AddDays(-30)), now = Text(now) }).ConfigureAwait(false))
                .ToDictionary(c => c.Cluster, StringComparer.Ordinal);
            var stats = new List<ClusterBackupStats>(clusters.Count);
            foreach (var cluster in clusters)
            {
                // Walks the (cluster, started_at) index from the newest and stops at the first good one.
                var lastGood = await connection.QuerySingleOrDefaultAsync<Row>(
                    $"SELECT {Columns} FROM backups WHERE cluster = @cluster AND status IN {Good} AND started_at <= @now ORDER BY started_at DESC, id DESC LIMIT 1",
                    new { cluster, now = Text(now) }).ConfigureAwait(false);
                var c = counts.GetValueOrDefault(cluster);
                stats.Add(new ClusterBackupStats(cluster, lastGood?.ToRecord(), (int)c.Finished7, (int)c.Good7, (int)c.Finished30, (int)c.Good30));
            }

            return stats;
        }
    }

    /// <summary>
    /// Attempts started from <paramref name="from"/> on, grouped per hour or day (UTC) of their start: only buckets
    /// with attempts come back, oldest first. <paramref name="cluster"/> null: every cluster.
    /// </summary>
    public async Task<IReadOnlyList<TimelinePoint>> TimelineAsync(string? cluster, DateTimeOffset from, TimelineBucket bucket, CancellationToken cancellationToken)
    {
        // ISO-8601 text: its first 13 characters name the hour ("2026-11-21T06"), its first 10 the day.
        var length = bucket == TimelineBucket.Hour ? 13 : 10;
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<(string Bucket, long Succeeded, long Partial, long Failed, long Interrupted, double? Size, double? DurationMs, double? Bytes, double? Ms)>(
                $"""
                SELECT substr(started_at, 1, @length) AS bucket,
                    SUM(CASE WHEN status = 'Succeeded' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status = 'PartiallySucceeded' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status = 'Failed' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN status = 'Interrupted' THEN 1 ELSE 0 END),
                    CAST(AVG(CASE WHEN status IN {Good} THEN size_bytes END) AS DOUBLE PRECISION),
                    CAST(AVG(CASE WHEN status IN {Good} THEN duration_ms END) AS DOUBLE PRECISION),
                    CAST(SUM(CASE WHEN status IN {Good} AND duration_ms > 0 THEN size_bytes END) AS DOUBLE PRECISION),
                    CAST(SUM(CASE WHEN status IN {Good} AND duration_ms > 0 AND size_bytes IS NOT NULL THEN duration_ms END) AS DOUBLE PRECISION)
                FROM backups WHERE started_at >= @from AND (@cluster IS NULL OR cluster = @cluster)
                GROUP BY bucket ORDER BY bucket
                """,
                new { length, from = Text(from), cluster }).ConfigureAwait(false);
            return [.. rows.Select(r => new TimelinePoint(
                SqlTime.Parse(bucket == TimelineBucket.Hour ? r.Bucket + ":00:00Z" : r.Bucket + "T00:00:00Z"),
                (int)r.Succeeded,
                (int)r.Partial,
                (int)r.Failed,
                (int)r.Interrupted,
                r.Size,
                r.DurationMs / 1000,
                r.Ms is > 0 ? r.Bytes / (r.Ms / 1000) : null))];
        }
    }

    /// <summary>
    /// Copies of the cluster's snapshots that each target holds, and their bytes: the ledger's stored copies. Retention
    /// marks the copies it deletes, and the ones it finds missing, so no policy is applied here (decision record 0018).
    /// </summary>
    public async Task<IReadOnlyList<TargetUsage>> StoredBytesAsync(string cluster, IReadOnlyList<string> targets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // Reads the partial index of stored copies (migration 8), never the copies retention has deleted.
            // The IN list spelled out: Dapper would pass an array to Npgsql, which SQLite has no syntax for.
            var parameters = new DynamicParameters(new { cluster });
            for (var i = 0; i < targets.Count; i++)
            {
                parameters.Add($"t{i}", targets[i]);
            }

            var list = targets.Count == 0 ? "NULL" : string.Join(", ", targets.Select((_, i) => $"@t{i}"));
            var rows = (await connection.QueryAsync<(string Target, long Copies, long Bytes)>(
                $"""
                SELECT c.target, COUNT(*), CAST(SUM(b.size_bytes) AS BIGINT) FROM backup_copies c JOIN backups b ON b.id = c.backup_id
                WHERE c.status = 'Stored' AND c.target IN ({list}) AND b.cluster = @cluster AND b.size_bytes IS NOT NULL
                GROUP BY c.target
                """,
                parameters).ConfigureAwait(false)).ToDictionary(r => r.Target, StringComparer.Ordinal);
            return [.. targets.Select(t => rows.TryGetValue(t, out var r) ? new TargetUsage(t, (int)r.Copies, r.Bytes) : new TargetUsage(t, 0, 0))];
        }
    }
}
