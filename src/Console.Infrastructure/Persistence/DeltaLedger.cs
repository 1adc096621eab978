using Console.Domain.Backups;
using Dapper;

namespace Console.Infrastructure.Persistence;

public enum DeltaSegmentStatus
{
    Ok,
    /// <summary>A read found it missing, cut short or changed: the recoverable window ends before it.</summary>
    Damaged,
}

/// <summary>One delta segment as recorded once every target of its cluster stored it.</summary>
public sealed record DeltaSegmentRecord(
    string Cluster,
    long FirstRevision,
    long LastRevision,
    DateTimeOffset FirstTime,
    DateTimeOffset LastTime,
    string FileName,
    string Codec,
    long EventCount,
    string RawSha256,
    long RawSize,
    string StoredSha256,
    long StoredSize,
    IReadOnlyList<string> Targets,
    DeltaSegmentStatus Status,
    string? Reason);

/// <summary>How far a cluster's watcher has made history durable, who watches, and the last error it met (null when well).</summary>
public sealed record ContinuousState(string Cluster, long DurableRevision, DateTimeOffset DurableTime, string? Watcher, string? Error, DateTimeOffset UpdatedAt)
{
    /// <summary>The etcd cluster id the chain was captured from (hex); a different one means the history was replaced.</summary>
    public string? ClusterId { get; init; }

    /// <summary>When the cluster's history was last replaced (a restore): segments and full snapshots from before it
    /// belong to the old history and are no longer offered. Null: never.</summary>
    public DateTimeOffset? HistorySince { get; init; }

    /// <summary>No chain is running: the history was replaced and no new full snapshot started one yet.</summary>
    public bool NeedsChain => DurableRevision == 0;
}

/// <summary>A full snapshot a span can start from: its recorded revision, when it finished, and its file.</summary>
public sealed record BaseSnapshot(string FileName, long Revision, DateTimeOffset At);

/// <summary>
/// Continuous backup's ledger (migration 11, decision record 0029): the segments written, continuity breaks, and each
/// cluster's durable revision and time. The durable revision only moves forward, and only after the segment holding it
/// is stored and recorded.
/// </summary>
public sealed class DeltaLedger(ConsoleDatabase database)
{
    public async Task RecordSegmentAsync(DeltaSegmentRecord segment, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // A segment rewritten after a crash between store and record (same name, same content) replaces its row.
            await connection.ExecuteAsync(
                """
                INSERT INTO delta_segments (cluster, first_revision, last_revision, first_time, last_time, file_name, codec, event_count,
                    raw_sha256, raw_size, stored_sha256, stored_size, targets, status, reason, created_at)
                VALUES (@Cluster, @FirstRevision, @LastRevision, @FirstTime, @LastTime, @FileName, @Codec, @EventCount,
                    @RawSha256, @RawSize, @StoredSha256, @StoredSize, @Targets, @Status, @Reason, @now)
                ON CONFLICT (cluster, file_name) DO UPDATE SET stored_sha256 = excluded.stored_sha256, stored_size = excluded.stored_size,
                    targets = excluded.targets, status = excluded.status, reason = excluded.reason, created_at = excluded.created_at
                """,
                new
                {
                    segment.Cluster,
                    segment.FirstRevision,
                    segment.LastRevision,
                    FirstTime = SqlTime.Text(segment.FirstTime),
                    LastTime = SqlTime.Text(segment.LastTime),
                    segment.FileName,
                    segment.Codec,
                    segment.EventCount,
                    segment.RawSha256,
                    segment.RawSize,
                    segment.StoredSha256,
                    segment.StoredSize,
                    Targets = string.Join('+', segment.Targets),
                    Status = segment.Status.ToString(),
                    segment.Reason,
                    now = SqlTime.Text(now),
                }).ConfigureAwait(false);
        }
    }

    /// <summary>The cluster's segments, by first revision.</summary>
    public async Task<IReadOnlyList<DeltaSegmentRecord>> SegmentsAsync(string cluster, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<SegmentRow>(
                """
                SELECT cluster AS Cluster, first_revision AS FirstRevision, last_revision AS LastRevision, first_time AS FirstTime,
                    last_time AS LastTime, file_name AS FileName, codec AS Codec, event_count AS EventCount, raw_sha256 AS RawSha256,
                    raw_size AS RawSize, stored_sha256 AS StoredSha256, stored_size AS StoredSize, targets AS Targets, status AS Status, reason AS Reason
                FROM delta_segments WHERE cluster = @cluster ORDER BY first_revision, last_revision
                """,
                new { cluster }).ConfigureAwait(false);
            return [.. rows.Select(r => r.ToRecord())];
        }
    }

    public async Task MarkDamagedAsync(string cluster, string fileName, string reason, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                "UPDATE delta_segments SET status = 'Damaged', reason = @reason WHERE cluster = @cluster AND file_name = @fileName",
                new { cluster, fileName, reason }).ConfigureAwait(false);
        }
    }

    /// <summary>Removes <paramref name="target"/> from a segment's targets; the row goes once no target holds it.</summary>
    public async Task ForgetCopyAsync(string cluster, string fileName, string target, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var targets = await connection.ExecuteScalarAsync<string?>(
                "SELECT targets FROM delta_segments WHERE cluster = @cluster AND file_name = @fileName", new { cluster, fileName }).ConfigureAwait(false);
            if (targets is null)
            {
                return;
            }

            var left = targets.Split('+', StringSplitOptions.RemoveEmptyEntries).Where(t => t != target).ToList();
            await connection.ExecuteAsync(
                left.Count == 0
                    ? "DELETE FROM delta_segments WHERE cluster = @cluster AND file_name = @fileName"
                    : "UPDATE delta_segments SET targets = @targets WHERE cluster = @cluster AND file_name = @fileName",
                new { cluster, fileName, targets = string.Join('+', left) }).ConfigureAwait(false);
        }
    }

    public async Task<long> RecordBreakAsync(string cluster, long afterRevision, DateTimeOffset at, string reason, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await connection.ExecuteScalarAsync<long>(
                "INSERT INTO continuity_breaks (cluster, after_revision, at, reason) VALUES (@cluster, @afterRevision, @at, @reason) RETURNING id",
                new { cluster, afterRevision, at = SqlTime.Text(at), reason }).ConfigureAwait(false);
        }
    }

    public async Task ResumeBreakAsync(long id, long resumedAtRevision, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync("UPDATE continuity_breaks SET resumed_at_revision = @resumedAtRevision WHERE id = @id", new { id, resumedAtRevision }).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<ContinuityBreak>> BreaksAsync(string cluster, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<(long After, long? Resumed, string At, string Reason)>(
                "SELECT after_revision, resumed_at_revision, at, reason FROM continuity_breaks WHERE cluster = @cluster ORDER BY after_revision, id",
                new { cluster }).ConfigureAwait(false);
            return [.. rows.Select(r => new ContinuityBreak(r.After, r.Resumed, SqlTime.Parse(r.At), r.Reason))];
        }
    }

    /// <summary>
    /// Moves the durable revision and time forward (never back: a late writer cannot undo a newer one) and records who
    /// watches; <paramref name="error"/> null clears the last error.
    /// </summary>
    public async Task AdvanceAsync(string cluster, long durableRevision, DateTimeOffset durableTime, string watcher, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO continuous_state (cluster, durable_revision, durable_time, watcher, error, updated_at)
                VALUES (@cluster, @durableRevision, @durableTime, @watcher, NULL, @now)
                ON CONFLICT (cluster) DO UPDATE SET
                    durable_revision = CASE WHEN excluded.durable_revision > continuous_state.durable_revision THEN excluded.durable_revision ELSE continuous_state.durable_revision END,
                    durable_time = CASE WHEN excluded.durable_time > continuous_state.durable_time THEN excluded.durable_time ELSE continuous_state.durable_time END,
                    watcher = excluded.watcher, error = NULL, updated_at = excluded.updated_at
                """,
                new { cluster, durableRevision, durableTime = SqlTime.Text(durableTime), watcher, now = SqlTime.Text(now) }).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Starts a new chain at <paramref name="revision"/> (a fresh full snapshot after a break): the durable revision
    /// is set, even backwards of nothing, since nothing after it was captured.
    /// </summary>
    public async Task RestartAtAsync(string cluster, long revision, DateTimeOffset time, string watcher, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO continuous_state (cluster, durable_revision, durable_time, watcher, error, updated_at)
                VALUES (@cluster, @revision, @time, @watcher, NULL, @now)
                ON CONFLICT (cluster) DO UPDATE SET durable_revision = excluded.durable_revision, durable_time = excluded.durable_time,
                    watcher = excluded.watcher, error = NULL, updated_at = excluded.updated_at
                """,
                new { cluster, revision, time = SqlTime.Text(time), watcher, now = SqlTime.Text(now) }).ConfigureAwait(false);
        }
    }

    /// <summary>Remembers which etcd cluster (by its id) the chain is captured from.</summary>
    public async Task SetClusterIdAsync(string cluster, string clusterId, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync("UPDATE continuous_state SET cluster_id = @clusterId WHERE cluster = @cluster", new { cluster, clusterId }).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The cluster's history was replaced (a restore: a new cluster id, or a revision below the durable one): from
    /// <paramref name="since"/> on only what is captured from the new history counts, and no chain runs until a full
    /// snapshot of the new history starts one (durable revision 0).
    /// </summary>
    public async Task ReplaceHistoryAsync(string cluster, string clusterId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                "UPDATE continuous_state SET cluster_id = @clusterId, history_since = @since, durable_revision = 0, durable_time = @since, updated_at = @since WHERE cluster = @cluster",
                new { cluster, clusterId, since = SqlTime.Text(since) }).ConfigureAwait(false);
        }
    }

    /// <summary>Records the watcher's latest error (it keeps retrying); the durable revision is unchanged.</summary>
    public async Task RecordErrorAsync(string cluster, string watcher, string error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                "UPDATE continuous_state SET watcher = @watcher, error = @error, updated_at = @now WHERE cluster = @cluster",
                new { cluster, watcher, error, now = SqlTime.Text(now) }).ConfigureAwait(false);
        }
    }

    public async Task<ContinuousState?> StateAsync(string cluster, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<(string Cluster, long Revision, string Time, string? Watcher, string? Error, string Updated, string? ClusterId, string? Since)>(
                "SELECT cluster, durable_revision, durable_time, watcher, error, updated_at, cluster_id, history_since FROM continuous_state WHERE cluster = @cluster",
                new { cluster }).ConfigureAwait(false);
            return rows.Select(r => new ContinuousState(r.Cluster, r.Revision, SqlTime.Parse(r.Time), r.Watcher, r.Error, SqlTime.Parse(r.Updated))
            {
                ClusterId = r.ClusterId,
                HistorySince = r.Since is null ? null : SqlTime.Parse(r.Since),
            }).FirstOrDefault();
        }
    }

    /// <summary>
    /// The full snapshots of the cluster a span can start from: recorded backups that succeeded with a revision and
    /// still have a stored copy in some target, oldest revision first.
    /// </summary>
    public async Task<IReadOnlyList<BaseSnapshot>> BasesAsync(string cluster, CancellationToken cancellationToken, DateTimeOffset? since = null)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<(string FileName, long Revision, string At)>(
                """
                SELECT b.file_name, b.revision, b.finished_at FROM backups b
                WHERE b.cluster = @cluster AND b.status IN ('Succeeded', 'PartiallySucceeded') AND b.revision IS NOT NULL
                    AND b.file_name IS NOT NULL AND b.finished_at IS NOT NULL
                    AND EXISTS (SELECT 1 FROM backup_copies c WHERE c.backup_id = b.id AND c.status = 'Stored')
                ORDER BY b.revision, b.finished_at
                """,
                new { cluster }).ConfigureAwait(false);
            return [.. rows.Select(r => new BaseSnapshot(r.FileName, r.Revision, SqlTime.Parse(r.At))).Where(b => since is null || b.At >= since)];
        }
    }

    private sealed class SegmentRow
    {
        public string Cluster { get; set; } = "";
        public long FirstRevision { get; set; }
        public long LastRevision { get; set; }
        public string FirstTime { get; set; } = "";
        public string LastTime { get; set; } = "";
        public string FileName { get; set; } = "";
        public string Codec { get; set; } = "";
        public long EventCount { get; set; }
        public string RawSha256 { get; set; } = "";
        public long RawSize { get; set; }
        public string StoredSha256 { get; set; } = "";
        public long StoredSize { get; set; }
        public string Targets { get; set; } = "";
        public string Status { get; set; } = "";
        public string? Reason { get; set; }

        public DeltaSegmentRecord ToRecord() => new(
            Cluster, FirstRevision, LastRevision, SqlTime.Parse(FirstTime), SqlTime.Parse(LastTime), FileName, Codec, EventCount, RawSha256, RawSize,
            StoredSha256, StoredSize, Targets.Split('+', StringSplitOptions.RemoveEmptyEntries),
            Enum.TryParse<DeltaSegmentStatus>(Status, out var status) ? status : DeltaSegmentStatus.Damaged, Reason);
    }
}
