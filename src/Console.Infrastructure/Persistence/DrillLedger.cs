using Console.Domain.Backups;
using Dapper;

namespace Console.Infrastructure.Persistence;

/// <summary>
/// Restore drills' verdicts (migration 12): one row per drill of one stored copy. The newest row of a (file, target)
/// pair is that copy's verdict; a copy with no row was never drilled.
/// </summary>
public sealed class DrillLedger(ConsoleDatabase database)
{
    private const string Columns = "id AS Id, backup_id AS BackupId, cluster AS Cluster, file_name AS FileName, target AS Target, outcome AS Outcome, reason AS Reason, revision AS Revision, key_count AS KeyCount, canary AS Canary, deltas AS Deltas, rto_ms AS RtoMs, started_at AS StartedAt, finished_at AS FinishedAt, replica AS Replica, requested_by AS RequestedBy";

    /// <summary>Records a drill as Running; returns its id.</summary>
    public async Task<long> StartAsync(DrillVerdict drill, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(drill);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await connection.ExecuteScalarAsync<long>(
                """
                INSERT INTO drill_verdicts (backup_id, cluster, file_name, target, outcome, started_at, replica, requested_by)
                VALUES (@BackupId, @Cluster, @FileName, @Target, @outcome, @startedAt, @Replica, @RequestedBy)
                RETURNING id
                """,
                new { drill.BackupId, drill.Cluster, drill.FileName, drill.Target, outcome = nameof(DrillOutcome.Running), startedAt = SqlTime.Text(drill.StartedAt), drill.Replica, drill.RequestedBy }).ConfigureAwait(false);
        }
    }

    /// <summary>Writes a drill's outcome and findings (by <see cref="DrillVerdict.Id"/>).</summary>
    public async Task FinishAsync(DrillVerdict drill, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(drill);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                """
                UPDATE drill_verdicts SET outcome = @outcome, reason = @Reason, revision = @Revision, key_count = @KeyCount, canary = @Canary,
                    deltas = @Deltas, rto_ms = @rtoMs, finished_at = @finishedAt
                WHERE id = @Id
                """,
                new
                {
                    drill.Id,
                    outcome = drill.Outcome.ToString(),
                    drill.Reason,
                    drill.Revision,
                    drill.KeyCount,
                    drill.Canary,
                    drill.Deltas,
                    rtoMs = drill.Rto is { } rto ? (long?)rto.TotalMilliseconds : null,
                    finishedAt = drill.FinishedAt is { } at ? SqlTime.Text(at) : null,
                }).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Drills left Running by <paramref name="replica"/> (or by any replica when null) become Failed with
    /// <paramref name="reason"/>: the console stopped during them. Returns how many.
    /// </summary>
    public async Task<int> FailRunningAsync(string? replica, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await connection.ExecuteAsync(
                "UPDATE drill_verdicts SET outcome = @failed, reason = @reason, finished_at = @now WHERE outcome = @running AND (@replica IS NULL OR replica = @replica)",
                new { failed = nameof(DrillOutcome.Failed), running = nameof(DrillOutcome.Running), reason, now = SqlTime.Text(now), replica }).ConfigureAwait(false);
        }
    }

    /// <summary>The newest drill of every (file, target) pair: each copy's verdict.</summary>
    public async Task<IReadOnlyDictionary<(string FileName, string Target), DrillVerdict>> LatestByCopyAsync(string? cluster, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<Row>(
                $"""
                SELECT {Columns} FROM drill_verdicts d
                WHERE (@cluster IS NULL OR d.cluster = @cluster)
                  AND d.id = (SELECT MAX(id) FROM drill_verdicts e WHERE e.file_name = d.file_name AND e.target = d.target)
                """,
                new { cluster }).ConfigureAwait(false);
            return rows.Select(r => r.ToVerdict()).ToDictionary(v => (v.FileName, v.Target));
        }
    }

    /// <summary>The newest finished drill of each cluster, and the newest that passed (for "last drill" and its RTO).</summary>
    public async Task<IReadOnlyDictionary<string, (DrillVerdict? Last, DrillVerdict? LastPassed)>> LatestByClusterAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var last = await connection.QueryAsync<Row>(
                $"SELECT {Columns} FROM drill_verdicts d WHERE d.id = (SELECT MAX(id) FROM drill_verdicts e WHERE e.cluster = d.cluster AND e.outcome <> @running)",
                new { running = nameof(DrillOutcome.Running) }).ConfigureAwait(false);
            var passed = await connection.QueryAsync<Row>(
                $"SELECT {Columns} FROM drill_verdicts d WHERE d.id = (SELECT MAX(id) FROM drill_verdicts e WHERE e.cluster = d.cluster AND e.outcome = @passed)",
                new { passed = nameof(DrillOutcome.Passed) }).ConfigureAwait(false);
            var result = new Dictionary<string, (DrillVerdict?, DrillVerdict?)>(StringComparer.Ordinal);
            foreach (var row in last)
            {
                result[row.Cluster] = (row.ToVerdict(), null);
            }

            foreach (var row in passed)
            {
                result[row.Cluster] = (result.GetValueOrDefault(row.Cluster).Item1, row.ToVerdict());
            }

            return result;
        }
    }

    /// <summary>The newest passed drill of each (cluster, target): the drill metrics' last success and RTO.</summary>
    public async Task<IReadOnlyList<DrillVerdict>> LatestPassedByTargetAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<Row>(
                $"SELECT {Columns} FROM drill_verdicts d WHERE d.id = (SELECT MAX(id) FROM drill_verdicts e WHERE e.cluster = d.cluster AND e.target = d.target AND e.outcome = @passed)",
                new { passed = nameof(DrillOutcome.Passed) }).ConfigureAwait(false);
            return [.. rows.Select(r => r.ToVerdict())];
        }
    }

    /// <summary>Every drill of one copy, newest first.</summary>
    public async Task<IReadOnlyList<DrillVerdict>> HistoryAsync(string fileName, string target, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<Row>(
                $"SELECT {Columns} FROM drill_verdicts WHERE file_name = @fileName AND target = @target ORDER BY id DESC",
                new { fileName, target }).ConfigureAwait(false);
            return [.. rows.Select(r => r.ToVerdict())];
        }
    }

    private sealed record Row(
        long Id,
        long? BackupId,
        string Cluster,
        string FileName,
        string Target,
        string Outcome,
        string? Reason,
        long? Revision,
        long? KeyCount,
        string? Canary,
        string? Deltas,
        long? RtoMs,
        string StartedAt,
        string? FinishedAt,
        string? Replica,
        string RequestedBy)
    {
        public DrillVerdict ToVerdict() => new()
        {
            Id = Id,
            BackupId = BackupId,
            Cluster = Cluster,
            FileName = FileName,
            Target = Target,
            Outcome = Enum.Parse<DrillOutcome>(Outcome),
            Reason = Reason,
            Revision = Revision,
            KeyCount = KeyCount,
            Canary = Canary,
            Deltas = Deltas,
            Rto = RtoMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
            StartedAt = SqlTime.Parse(StartedAt),
            FinishedAt = FinishedAt is null ? null : SqlTime.Parse(FinishedAt),
            Replica = Replica,
            RequestedBy = RequestedBy,
        };
    }
}
