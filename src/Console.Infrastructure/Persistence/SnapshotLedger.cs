using System.Globalization;
using Dapper;

namespace Console.Infrastructure.Persistence;

public enum CopyStatus
{
    Stored,
    /// <summary>The target failed while another copy succeeded; the upload is retried from the local copy.</summary>
    Pending,
    Failed,
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

    private static string Text(DateTimeOffset value) => SqlTime.Text(value);
}
