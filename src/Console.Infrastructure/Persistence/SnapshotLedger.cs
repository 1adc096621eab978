using System.Globalization;
using Dapper;

namespace Console.Infrastructure.Persistence;

public enum CopyStatus
{
    Stored,
    /// <summary>The target failed while another copy succeeded; the upload is retried from the local copy.</summary>
    Pending,
    Failed,
    /// <summary>
    /// The target no longer holds it: retention deleted it, or a retention pass found it missing from the store's listing
    /// (removed by hand, or pruned before the ledger recorded deletions). When and why are in the copy's error text.
    /// </summary>
    Deleted,
}

/// <summary>What a retention pass changed in the ledger after comparing it with the store's listing.</summary>
public sealed record CopyReconciliation(IReadOnlyList<string> Missing, IReadOnlyList<string> Reappeared)
{
    public static readonly CopyReconciliation None = new([], []);
}

public sealed record BackupCopy(long BackupId, string Target, CopyStatus Status, string? Location, string? Error, int Attempts);

public sealed record PendingUpload(long BackupId, string Cluster, string FileName, string Target, int Attempts);

public sealed record Verification(string FileName, string Target, DateTimeOffset VerifiedAt, bool Ok, string Detail, string VerifiedBy);

/// <summary>Where each backup's copies are, which snapshots are protected from retention, and verification results.</summary>
public sealed class SnapshotLedger(ConsoleDatabase database)
{
    public async Task SaveCopyAsync(BackupCopy copy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(copy);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO backup_copies (backup_id, target, status, location, error, attempts, updated_at)
                VALUES (@BackupId, @Target, @Status, @Location, @Error, @Attempts, @now)
                ON CONFLICT (backup_id, target) DO UPDATE SET status = excluded.status, location = excluded.location,
                    error = excluded.error, attempts = excluded.attempts, updated_at = excluded.updated_at
                """,
                new { copy.BackupId, copy.Target, Status = copy.Status.ToString(), copy.Location, copy.Error, copy.Attempts, now = Text(now) }).ConfigureAwait(false);
        }
    }

    /// <summary>Records that <paramref name="target"/> no longer holds the cluster's snapshot <paramref name="fileName"/>.</summary>
    public async Task MarkDeletedAsync(string cluster, string target, string fileName, string why, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                """
                UPDATE backup_copies SET status = 'Deleted', error = @why, updated_at = @now
                WHERE target = @target AND status = 'Stored'
                    AND backup_id IN (SELECT id FROM backups WHERE file_name = @fileName AND cluster = @cluster)
                """,
                new { cluster, target, fileName, why, now = Text(now) }).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Makes the ledger agree with a listing of the cluster's snapshots in <paramref name="target"/> taken at
    /// <paramref name="listedAt"/>: stored copies absent from it become Deleted, and Deleted copies present in it (a
    /// directory that was unmounted, a file put back) Stored again. Copies changed after the listing started (an upload
    /// retry finishing meanwhile) are left for the next pass: the listing cannot know them.
    /// </summary>
    public async Task<CopyReconciliation> ReconcileAsync(string cluster, string target, IReadOnlySet<string> present, DateTimeOffset listedAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(present);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var transaction = connection.BeginTransaction();

            // Stored copies are few once the ledger records deletions (what retention keeps); Deleted ones grow with
            // history, so those are looked up by the names present, not read in full.
            var stored = await connection.QueryAsync<(long BackupId, string FileName)>(
                """
                SELECT c.backup_id, b.file_name FROM backup_copies c JOIN backups b ON b.id = c.backup_id
                WHERE c.target = @target AND c.status = 'Stored' AND b.cluster = @cluster AND b.file_name IS NOT NULL AND c.updated_at <= @listedAt
                """,
                new { cluster, target, listedAt = Text(listedAt) },
                transaction).ConfigureAwait(false);
            var missing = stored.Where(s => !present.Contains(s.FileName)).ToList();
            await connection.ExecuteAsync(
                "UPDATE backup_copies SET status = 'Deleted', error = @why, updated_at = @now WHERE backup_id = @BackupId AND target = @target AND status = 'Stored'",
                missing.Select(m => new { m.BackupId, target, why = $"not in the store at {now:u}: removed outside the console, or pruned before the ledger recorded deletions", now = Text(now) }),
                transaction).ConfigureAwait(false);

            var reappeared = new List<string>();
            foreach (var fileName in present)
            {
                var changed = await connection.ExecuteAsync(
                    """
                    UPDATE backup_copies SET status = 'Stored', error = NULL, updated_at = @now
                    WHERE target = @target AND status = 'Deleted' AND updated_at <= @listedAt
                        AND backup_id IN (SELECT id FROM backups WHERE file_name = @fileName AND cluster = @cluster)
                    """,
                    new { cluster, target, fileName, listedAt = Text(listedAt), now = Text(now) },
                    transaction).ConfigureAwait(false);
                if (changed > 0)
                {
                    reappeared.Add(fileName);
                }
            }

            transaction.Commit();
            return new CopyReconciliation([.. missing.Select(m => m.FileName).Order(StringComparer.Ordinal)], [.. reappeared.Order(StringComparer.Ordinal)]);
        }
    }

    public async Task<IReadOnlyList<BackupCopy>> CopiesAsync(long backupId, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<(long BackupId, string Target, string Status, string? Location, string? Error, long Attempts)>(
                "SELECT backup_id, target, status, location, error, attempts FROM backup_copies WHERE backup_id = @backupId ORDER BY target", new { backupId }).ConfigureAwait(false);
            return [.. rows.Select(r => new BackupCopy(r.BackupId, r.Target, Enum.Parse<CopyStatus>(r.Status), r.Location, r.Error, (int)r.Attempts))];
        }
    }

    public async Task<IReadOnlyList<PendingUpload>> PendingUploadsAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<(long BackupId, string Cluster, string FileName, string Target, long Attempts)>(
                """
                SELECT c.backup_id, b.cluster, b.file_name, c.target, c.attempts FROM backup_copies c
                JOIN backups b ON b.id = c.backup_id WHERE c.status = 'Pending' AND b.file_name IS NOT NULL ORDER BY c.backup_id
                """).ConfigureAwait(false);
            return [.. rows.Select(r => new PendingUpload(r.BackupId, r.Cluster, r.FileName, r.Target, (int)r.Attempts))];
        }
    }

    /// <summary>
    /// Snapshot files of the cluster that the console itself took or recorded (any record naming the file, or a protection).
    /// Retention counts these, and files with a manifest of ours; a look-alike that is neither is set aside.
    /// </summary>
    public async Task<HashSet<string>> KnownFileNamesAsync(string cluster, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var names = await connection.QueryAsync<string>(
                """
                SELECT file_name FROM backups WHERE cluster = @cluster AND file_name IS NOT NULL
                UNION SELECT file_name FROM protected_snapshots WHERE cluster = @cluster
                """,
                new { cluster }).ConfigureAwait(false);
            return new HashSet<string>(names, StringComparer.Ordinal);
        }
    }

    /// <summary>Snapshot files protected from retention (by an operator, or a pre-restore snapshot until its date).</summary>
    public async Task<IReadOnlySet<string>> ProtectedAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return (await connection.QueryAsync<string>("SELECT file_name FROM protected_snapshots WHERE until IS NULL OR until > @now", new { now = Text(now) }).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        }
    }

    public async Task ProtectAsync(string fileName, string cluster, string by, DateTimeOffset now, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                "INSERT INTO protected_snapshots (file_name, cluster, protected_at, protected_by, until) VALUES (@fileName, @cluster, @now, @by, @until) ON CONFLICT (file_name) DO UPDATE SET protected_at = excluded.protected_at, protected_by = excluded.protected_by, until = excluded.until",
                new { fileName, cluster, now = Text(now), by, until = until is { } u ? Text(u) : null }).ConfigureAwait(false);
        }
    }

    public async Task UnprotectAsync(string fileName, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync("DELETE FROM protected_snapshots WHERE file_name = @fileName", new { fileName }).ConfigureAwait(false);
        }
    }

    public async Task RecordVerificationAsync(Verification verification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(verification);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                "INSERT INTO verifications (file_name, target, verified_at, ok, detail, verified_by) VALUES (@FileName, @Target, @at, @Ok, @Detail, @VerifiedBy)",
                new { verification.FileName, verification.Target, at = Text(verification.VerifiedAt), verification.Ok, verification.Detail, verification.VerifiedBy }).ConfigureAwait(false);
        }
    }

    /// <summary>The newest verification of every (file, target) pair.</summary>
    public async Task<IReadOnlyDictionary<(string FileName, string Target), Verification>> LatestVerificationsAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<(string FileName, string Target, string VerifiedAt, bool Ok, string Detail, string VerifiedBy)>(
                """
                SELECT v.file_name, v.target, v.verified_at, v.ok, v.detail, v.verified_by FROM verifications v
                WHERE v.id = (SELECT MAX(id) FROM verifications w WHERE w.file_name = v.file_name AND w.target = v.target)
                """).ConfigureAwait(false);
            return rows.ToDictionary(
                r => (r.FileName, r.Target),
                r => new Verification(r.FileName, r.Target, SqlTime.Parse(r.VerifiedAt), r.Ok, r.Detail, r.VerifiedBy));
        }
    }

    /// <summary>
    /// Copies whose newest verification failed (by the Verify button or the periodic re-verification), leaving out copies
    /// the ledger knows were deleted since: a pruned copy is no longer a problem.
    /// </summary>
    public async Task<IReadOnlyList<Verification>> FailedVerificationsAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<(string FileName, string Target, string VerifiedAt, bool Ok, string Detail, string VerifiedBy)>(
                """
                SELECT v.file_name, v.target, v.verified_at, v.ok, v.detail, v.verified_by FROM verifications v
                WHERE NOT v.ok
                  AND v.id = (SELECT MAX(id) FROM verifications w WHERE w.file_name = v.file_name AND w.target = v.target)
                  AND NOT EXISTS (SELECT 1 FROM backup_copies c JOIN backups b ON b.id = c.backup_id
                                  WHERE b.file_name = v.file_name AND c.target = v.target AND c.status = 'Deleted')
                ORDER BY v.id
                """).ConfigureAwait(false);
            return [.. rows.Select(r => new Verification(r.FileName, r.Target, SqlTime.Parse(r.VerifiedAt), r.Ok, r.Detail, r.VerifiedBy))];
        }
    }

    private static string Text(DateTimeOffset value) => SqlTime.Text(value);
}
