using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using Console.Domain.Backups;
using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Console.Bench;

/// <summary>
/// The console's database for the dashboard bench, on either provider: SQLite in a temporary directory, or PostgreSQL
/// 15 started for the run (the tests' fixture, fsync on as in production) with its own database. Migrated by the
/// product's own <see cref="ConsoleDatabase"/>. Seeds history in bulk (the seeding path, not the product's) and reports
/// the CPU the database itself used: this process's for SQLite, the PostgreSQL server's processes for PostgreSQL.
/// </summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    public static readonly string[] Clusters = ["prod", "staging"];

    private readonly DirectoryInfo _dataDir;
    private readonly TestPostgres? _server;

    private BenchDatabase(string provider, DirectoryInfo dataDir, TestPostgres? server, DatabaseSettings settings)
    {
        Provider = provider;
        _dataDir = dataDir;
        _server = server;
        Settings = settings;
        Database = new ConsoleDatabase(Options.Create(new ConsoleSettings { DataDir = dataDir.FullName, Database = settings }));
    }

    public string Provider { get; }

    public string Label => Provider == "postgres" ? "PostgreSQL 15" : "SQLite";

    public string DataDir => _dataDir.FullName;

    public DatabaseSettings Settings { get; }

    public ConsoleDatabase Database { get; }

    public static async Task<BenchDatabase> CreateAsync(string provider)
    {
        var dataDir = Directory.CreateTempSubdirectory("console-dashboard-bench-");
        if (provider != "postgres")
        {
            var sqlite = new BenchDatabase("sqlite", dataDir, null, new DatabaseSettings());
            await sqlite.Database.MigrateAsync(CancellationToken.None);
            return sqlite;
        }

        var server = await TestPostgres.StartAsync(durable: true);
        await using (var admin = new NpgsqlConnection(server.ConnectionString))
        {
            await admin.ExecuteAsync("CREATE DATABASE console_bench");
        }

        var connectionString = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "console_bench" }.ToString();
        var postgres = new BenchDatabase("postgres", dataDir, server, new DatabaseSettings { Provider = "postgres", ConnectionString = connectionString });
        await postgres.Database.MigrateAsync(CancellationToken.None);
        return postgres;
    }

    /// <summary>Record <paramref name="id"/> of <paramref name="total"/>: one every 10 minutes up to now, alternating clusters, 2% failed.</summary>
    public static BackupRecord Record(long id, long total, DateTimeOffset now)
    {
        var i = id - 1;
        var started = now.AddMinutes(-10.0 * (total - i));
        var failed = i % 50 == 7;
        var cluster = Clusters[i % Clusters.Length];
        return new BackupRecord
        {
            Id = id,
            Cluster = cluster,
            Trigger = BackupTrigger.Scheduled,
            RequestedBy = "scheduler",
            Status = failed ? BackupStatus.Failed : BackupStatus.Succeeded,
            StartedAt = started,
            FinishedAt = started.AddMilliseconds(1500 + (i % 7 * 100)),
            SizeBytes = failed ? null : 50_000_000L + (i % 1000 * 10_000),
            FileName = failed ? null : $"{cluster}_{started.UtcDateTime:yyyyMMdd'T'HHmmss.fff'Z'}.db",
            Targets = "local",
        };
    }

    /// <summary>Records 1..<paramref name="count"/> of <paramref name="total"/>, in bulk: one prepared INSERT in large transactions (SQLite), binary COPY (PostgreSQL).</summary>
    public async Task SeedRecordsAsync(long count, long total, DateTimeOffset now)
    {
        var rows = LongRange(1, count).Select(id => Record(id, total, now));
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        if (connection is NpgsqlConnection postgres)
        {
            await using (var copy = await postgres.BeginBinaryImportAsync(
                "COPY backups (id, cluster, trigger, requested_by, status, started_at, finished_at, targets, size_bytes, duration_ms, file_name) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var r in rows)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(r.Id, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(r.Cluster, NpgsqlDbType.Text);
                    await copy.WriteAsync(r.Trigger.ToString(), NpgsqlDbType.Text);
                    await copy.WriteAsync(r.RequestedBy, NpgsqlDbType.Text);
                    await copy.WriteAsync(r.Status.ToString(), NpgsqlDbType.Text);
                    await copy.WriteAsync(SqlText(r.StartedAt), NpgsqlDbType.Text);
                    await copy.WriteAsync(SqlText(r.FinishedAt!.Value), NpgsqlDbType.Text);
                    await copy.WriteAsync(r.Targets, NpgsqlDbType.Text);
                    await WriteOrNullAsync(copy, r.SizeBytes, NpgsqlDbType.Bigint);
                    await copy.WriteAsync((long)r.Duration!.Value.TotalMilliseconds, NpgsqlDbType.Bigint);
                    await WriteOrNullAsync(copy, r.FileName, NpgsqlDbType.Text);
                }

                await copy.CompleteAsync();
            }

            // The identity goes on after the copied ids, as it would have had the product inserted them.
            await postgres.ExecuteAsync("SELECT setval(pg_get_serial_sequence('backups', 'id'), (SELECT MAX(id) FROM backups))");
            return;
        }

        await InsertInBatchesAsync(
            connection,
            rows,
            """
            INSERT INTO backups (id, cluster, trigger, requested_by, status, started_at, finished_at, targets, size_bytes, duration_ms, file_name)
            VALUES ($id, $cluster, $trigger, $requested_by, $status, $started_at, $finished_at, $targets, $size_bytes, $duration_ms, $file_name)
            """,
            r => [r.Id, r.Cluster, r.Trigger.ToString(), r.RequestedBy, r.Status.ToString(), SqlText(r.StartedAt), SqlText(r.FinishedAt!.Value), r.Targets, r.SizeBytes, (long)r.Duration!.Value.TotalMilliseconds, r.FileName]);
    }

    /// <summary>
    /// Every good record's local copy, as retention leaves the ledger (the default keeps each cluster's newest 7): the
    /// older copies recorded as deleted. Then statistics, as autovacuum's analyze would have them on a live PostgreSQL.
    /// </summary>
    public async Task SeedCopiesAsync(long total, DateTimeOffset now)
    {
        var keep = RetentionPolicy.Default.Count!.Value;
        var kept = Clusters.SelectMany((_, c) => LongRange(1, total).Reverse().Where(id => (id - 1) % Clusters.Length == c && (id - 1) % 50 != 7).Take(keep)).ToHashSet();
        var copies = LongRange(1, total).Where(id => (id - 1) % 50 != 7).Select(id => (Id: id, Status: kept.Contains(id) ? "Stored" : "Deleted", At: SqlText(Record(id, total, now).FinishedAt!.Value)));
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        if (connection is NpgsqlConnection postgres)
        {
            await using (var copy = await postgres.BeginBinaryImportAsync("COPY backup_copies (backup_id, target, status, updated_at) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var (id, status, at) in copies)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(id, NpgsqlDbType.Bigint);
                    await copy.WriteAsync("local", NpgsqlDbType.Text);
                    await copy.WriteAsync(status, NpgsqlDbType.Text);
                    await copy.WriteAsync(at, NpgsqlDbType.Text);
                }

                await copy.CompleteAsync();
            }

            await postgres.ExecuteAsync("VACUUM ANALYZE backups");
            await postgres.ExecuteAsync("VACUUM ANALYZE backup_copies");
            return;
        }

        await InsertInBatchesAsync(
            connection,
            copies,
            "INSERT INTO backup_copies (backup_id, target, status, updated_at) VALUES ($backup_id, 'local', $status, $updated_at)",
            c => [c.Id, c.Status, c.At]);
    }

    /// <summary>CPU seconds used so far by the database: PostgreSQL's server processes (live and exited), or none apart from this process.</summary>
    public double ServerCpuSeconds()
    {
        if (_server is null)
        {
            return 0;
        }

        var stats = Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(p => p!.All(char.IsAsciiDigit)).Select(pid => (Pid: pid!, Stat: TryRead($"/proc/{pid}/stat"), Command: TryRead($"/proc/{pid}/cmdline"))).ToList();
        var postmaster = stats.FirstOrDefault(s => s.Command is { } c && c.Contains("postgres", StringComparison.Ordinal) && c.Contains($"\0-p\0{_server.Port}\0", StringComparison.Ordinal));
        if (postmaster.Pid is null)
        {
            return 0;
        }

        var total = CpuTime.Of(postmaster.Pid).Own + CpuTime.Of(postmaster.Pid).Children;
        foreach (var (pid, stat, _) in stats)
        {
            if (stat is not null && stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1] == postmaster.Pid)
            {
                try
                {
                    total += CpuTime.Of(pid).Own;
                }
                catch (IOException)
                {
                    // Exited meanwhile: its CPU is in the postmaster's children from now on.
                }
            }
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        NpgsqlConnection.ClearAllPools();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _dataDir.Delete(recursive: true);
    }

    public static string SqlText(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static async Task InsertInBatchesAsync<T>(DbConnection connection, IEnumerable<T> rows, string sql, Func<T, object?[]> values)
    {
        const int Batch = 100_000;
        using var batch = rows.Chunk(Batch).GetEnumerator();
        while (batch.MoveNext())
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            var names = System.Text.RegularExpressions.Regex.Matches(sql, @"\$[a-z_]+").Select(m => m.Value).ToList();
            foreach (var name in names)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                command.Parameters.Add(parameter);
            }

            await command.PrepareAsync();
            foreach (var row in batch.Current)
            {
                var v = values(row);
                for (var i = 0; i < v.Length; i++)
                {
                    command.Parameters[i].Value = v[i] ?? DBNull.Value;
                }

                await command.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
        }
    }

    private static Task WriteOrNullAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type) =>
        value is null ? copy.WriteNullAsync() : copy.WriteAsync(value, type);

    private static IEnumerable<long> LongRange(long from, long count)
    {
        for (var i = 0L; i < count; i++)
        {
            yield return from + i;
        }
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
