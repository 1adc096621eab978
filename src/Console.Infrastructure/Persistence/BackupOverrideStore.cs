using System.Globalization;
using Console.Domain.Backups;
using Dapper;

namespace Console.Infrastructure.Persistence;

/// <summary>Backup settings changed in the console (pause, schedule, retention), kept across restarts.</summary>
public sealed class BackupOverrideStore(ConsoleDatabase database)
{
    public async Task<IReadOnlyDictionary<string, BackupOverride>> LoadAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<Row>(
                "SELECT cluster AS Cluster, paused AS Paused, interval AS Interval, cron AS Cron, retention_count AS RetentionCount, retention_max_age AS RetentionMaxAge, clear_max_age AS ClearMaxAge FROM backup_overrides").ConfigureAwait(false);
            return rows.ToDictionary(r => r.Cluster, r => new BackupOverride(r.Paused, r.Interval, r.Cron, r.RetentionCount, r.RetentionMaxAge, r.ClearMaxAge), StringComparer.Ordinal);
        }
    }

    public async Task SaveAsync(string cluster, BackupOverride value, string updatedBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO backup_overrides (cluster, paused, interval, cron, retention_count, retention_max_age, clear_max_age, updated_at, updated_by)
                VALUES (@cluster, @Paused, @Interval, @Cron, @RetentionCount, @RetentionMaxAge, @ClearRetentionMaxAge, @now, @updatedBy)
                ON CONFLICT (cluster) DO UPDATE SET paused = excluded.paused, interval = excluded.interval, cron = excluded.cron,
                    retention_count = excluded.retention_count, retention_max_age = excluded.retention_max_age,
                    clear_max_age = excluded.clear_max_age, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """,
                new
                {
                    cluster,
                    value.Paused,
                    value.Interval,
                    value.Cron,
                    value.RetentionCount,
                    value.RetentionMaxAge,
                    value.ClearRetentionMaxAge,
                    now = SqlTime.Text(now),
                    updatedBy,
                }).ConfigureAwait(false);
        }
    }

    private sealed class Row
    {
        public string Cluster { get; set; } = "";
        public bool? Paused { get; set; }
        public string? Interval { get; set; }
        public string? Cron { get; set; }
        public int? RetentionCount { get; set; }
        public string? RetentionMaxAge { get; set; }
        public bool ClearMaxAge { get; set; }
    }
}
