using System.Globalization;
using Console.Domain.Backups;
using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Dapper;
using Microsoft.Extensions.Options;

namespace Console.Web.Tests.Infrastructure.Persistence;

public abstract class BackupRecordStoreTests : IDisposable
{
    private readonly TestDatabase _data;
    private readonly ConsoleDatabase _database;
    private readonly BackupRecordStore _store;

    protected BackupRecordStoreTests(PostgresServer? postgres)
    {
        _data = TestDatabase.Create("records", postgres);
        _database = _data.Database;
        _store = new BackupRecordStore(_database);
    }

    [Fact]
    public async Task Migrations_are_recorded_and_running_them_again_changes_nothing()
    {
        await _store.InsertRunningAsync(new BackupRecord { Cluster = "a", StartedAt = DateTimeOffset.UtcNow }, CancellationToken.None);

        await _database.MigrateAsync(CancellationToken.None);

        await using var connection = await _database.OpenAsync(CancellationToken.None);
        Assert.Equal(ConsoleDatabase.SchemaVersion, await connection.ExecuteScalarAsync<int>("SELECT MAX(version) FROM schema_version"));
        Assert.Equal(ConsoleDatabase.SchemaVersion, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM schema_version"));
        Assert.Equal(1, (await _store.QueryAsync(new BackupQuery(), CancellationToken.None)).Total);
    }

    [Fact]
    public async Task A_record_round_trips_every_field()
    {
        var started = new DateTimeOffset(2026, 11, 21, 6, 0, 0, 123, TimeSpan.Zero);
        var id = await _store.InsertRunningAsync(new BackupRecord { Cluster = "prod", Trigger = BackupTrigger.Scheduled, RequestedBy = "scheduler", StartedAt = started, Targets = "local+s3" }, CancellationToken.None);
        var finished = new BackupRecord
        {
            Id = id, Cluster = "prod", Trigger = BackupTrigger.Scheduled, RequestedBy = "scheduler", StartedAt = started, Targets = "local+s3",
            Status = BackupStatus.Succeeded, FinishedAt = started.AddSeconds(2.5), Member = "m2", MemberNote = "m2: a healthy follower",
            FileName = "prod_20261121T060000.123Z.db", Location = "/data/snapshots/prod_20261121T060000.123Z.db", SizeBytes = 5_000_032,
            Sha256 = new string('a', 64), Revision = 1234, RaftIndex = 99, EtcdVersion = "3.4.23", RetentionNote = "nothing to delete",
        };

        await _store.UpdateAsync(finished, CancellationToken.None);

        var read = await _store.GetAsync(id, CancellationToken.None);
        Assert.Equal(finished, read);
        Assert.Equal(TimeSpan.FromSeconds(2.5), read!.Duration);
        Assert.Equal(2_000_012.8, read.Throughput!.Value, 1);
    }

    [Fact]
    public async Task Paging_sorting_and_filters_stay_correct_over_100000_records()
    {
        const int Count = 100_000;
        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        await using (var connection = await _database.OpenAsync(CancellationToken.None))
        {
            using var transaction = connection.BeginTransaction();
            await connection.ExecuteAsync(
                "INSERT INTO backups (cluster, trigger, requested_by, status, started_at, targets, size_bytes) VALUES (@Cluster, @Trigger, 'seed', @Status, @StartedAt, 'local', @Size)",
                Enumerable.Range(0, Count).Select(i => new
                {
                    Cluster = i % 4 == 0 ? "prod" : "staging",
                    Trigger = i % 10 == 0 ? "Manual" : "Scheduled",
                    Status = i % 50 == 0 ? "Failed" : "Succeeded",
                    StartedAt = start.AddMinutes(i).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
                    Size = (long)i * 10,
                }),
                transaction);
            transaction.Commit();
        }

        var newest = await _store.QueryAsync(new BackupQuery(Take: 25), CancellationToken.None);
        var lastPage = await _store.QueryAsync(new BackupQuery(Skip: Count - 10, Take: 25), CancellationToken.None);
        var failedProd = await _store.QueryAsync(new BackupQuery("prod", BackupStatus.Failed, Take: 5), CancellationToken.None);
        var manualBySize = await _store.QueryAsync(new BackupQuery(Trigger: BackupTrigger.Manual, SortBy: BackupSort.Size, Descending: false, Skip: 100, Take: 3), CancellationToken.None);
        var lastDay = await _store.QueryAsync(new BackupQuery("staging", From: start.AddMinutes(Count - 1440), Take: 1), CancellationToken.None);

        Assert.Equal(Count, newest.Total);
        Assert.Equal(start.AddMinutes(Count - 1), newest.Items[0].StartedAt);
        Assert.Equal(25, newest.Items.Count);
        Assert.Equal(10, lastPage.Items.Count);
        Assert.Equal(start, lastPage.Items[^1].StartedAt);
        Assert.Equal(Count / 100, failedProd.Total);
        Assert.All(failedProd.Items, r => Assert.Equal(("prod", BackupStatus.Failed), (r.Cluster, r.Status)));
        Assert.Equal(Count / 10, manualBySize.Total);
        Assert.Equal([10_000L, 10_100L, 10_200L], manualBySize.Items.Select(r => r.SizeBytes!.Value));
        Assert.Equal(1440 * 3 / 4, lastDay.Total);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    public sealed class OnSqlite() : BackupRecordStoreTests(null);

    [Collection(PostgresCollection.Name)]
    public sealed class OnPostgres(PostgresServer postgres) : BackupRecordStoreTests(postgres);
}
