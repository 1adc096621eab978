using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Console.Web.Tests.Infrastructure.Backups;
using Dapper;
using Microsoft.Extensions.Options;

namespace Console.Web.Tests.Infrastructure.Persistence;

/// <summary>The dashboard's aggregates and the records' sorts and filters, computed by a real SQLite file and a real PostgreSQL database.</summary>
public abstract class BackupAggregatesTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private readonly TestDatabase _data;
    private readonly ConsoleDatabase _database;
    private readonly BackupRecordStore _store;
    private readonly SnapshotLedger _ledger;

    protected BackupAggregatesTests(PostgresServer? postgres)
    {
        _data = TestDatabase.Create("aggregates", postgres);
        _database = _data.Database;
        _store = new BackupRecordStore(_database);
        _ledger = new SnapshotLedger(_database);
    }

    private async Task<long> AddAsync(string cluster, BackupStatus status, double hoursAgo, long? size = null, double? seconds = null, BackupTrigger trigger = BackupTrigger.Scheduled, string? member = null, long? revision = null)
    {
        var started = Now.AddHours(-hoursAgo);
        var record = new BackupRecord { Cluster = cluster, Trigger = trigger, StartedAt = started, RequestedBy = "test" };
        var id = await _store.InsertRunningAsync(record, CancellationToken.None);
        if (status != BackupStatus.Running)
        {
            await _store.UpdateAsync(
                record with
                {
                    Id = id, Status = status, SizeBytes = size, FinishedAt = started.AddSeconds(seconds ?? 1), Member = member, Revision = revision,
                    FileName = size is null ? null : SnapshotName.For(Console.Domain.Clusters.ClusterName.Parse(cluster), started).FileName,
                },
                CancellationToken.None);
        }

        return id;
    }

    private async Task<long> StoredAsync(string cluster, double hoursAgo, long size, params (string Target, CopyStatus Status)[] copies)
    {
        var id = await AddAsync(cluster, copies.All(c => c.Status == CopyStatus.Stored) ? BackupStatus.Succeeded : BackupStatus.PartiallySucceeded, hoursAgo, size, 10);
        foreach (var (target, status) in copies)
        {
            await _ledger.SaveCopyAsync(new BackupCopy(id, target, status, null, null, 1), Now, CancellationToken.None);
        }

        return id;
    }

    [Fact]
    public async Task Success_rates_count_good_among_finished_attempts_over_7_and_30_days_per_cluster()
    {
        await AddAsync("prod", BackupStatus.Succeeded, 1, 100);
        await AddAsync("prod", BackupStatus.PartiallySucceeded, 24 * 2, 90);
        await AddAsync("prod", BackupStatus.Failed, 24 * 6);
        await AddAsync("prod", BackupStatus.Running, 0.1);
        await AddAsync("prod", BackupStatus.Interrupted, 24 * 10);
        await AddAsync("prod", BackupStatus.Succeeded, 24 * 20, 80);
        await AddAsync("prod", BackupStatus.Failed, 24 * 40);
        await AddAsync("prod", BackupStatus.Succeeded, -2, 70);
        await AddAsync("staging", BackupStatus.Failed, 3);

        var stats = await _store.ClusterStatsAsync(["prod", "staging", "idle"], Now, CancellationToken.None);

        var (prod, staging, idle) = (stats[0], stats[1], stats[2]);
        Assert.Equal(("prod", 3, 2, 5, 3), (prod.Cluster, prod.Finished7Days, prod.Good7Days, prod.Finished30Days, prod.Good30Days));
        Assert.Equal(2.0 / 3, prod.SuccessRate7Days!.Value, 6);
        Assert.Equal(0.6, prod.SuccessRate30Days!.Value, 6);
        Assert.Equal(Now.AddHours(-1), prod.LastGood!.StartedAt);
        Assert.Equal((1, 0, 0.0), (staging.Finished7Days, staging.Good7Days, staging.SuccessRate7Days));
        Assert.Null(staging.LastGood);
        Assert.Equal(0, idle.Finished30Days);
        Assert.Null(idle.SuccessRate30Days);
        Assert.Null(idle.LastGood);
    }

    [Fact]
    public async Task Outcomes_sizes_durations_and_throughput_come_per_day_and_per_hour()
    {
        await AddAsync("prod", BackupStatus.Succeeded, 0.5, 100_000_000, 10);
        await AddAsync("prod", BackupStatus.Succeeded, 0.75, 300_000_000, 30);
        await AddAsync("prod", BackupStatus.Failed, 0.8);
        await AddAsync("prod", BackupStatus.PartiallySucceeded, 3, 200_000_000, 40);
        await AddAsync("prod", BackupStatus.Interrupted, 26);
        await AddAsync("prod", BackupStatus.Running, 0.1);
        await AddAsync("staging", BackupStatus.Failed, 1);
        await AddAsync("prod", BackupStatus.Succeeded, 24 * 40, 1, 1);

        var days = await _store.TimelineAsync("prod", Now.AddDays(-7), TimelineBucket.Day, CancellationToken.None);
        var hours = await _store.TimelineAsync(null, Now.AddHours(-24), TimelineBucket.Hour, CancellationToken.None);

        Assert.Equal([Now.Date.AddDays(-1), Now.Date], days.Select(d => d.Start.UtcDateTime));
        Assert.Equal((0, 0, 0, 1), (days[0].Succeeded, days[0].PartiallySucceeded, days[0].Failed, days[0].Interrupted));
        Assert.Null(days[0].AverageSizeBytes);
        var today = days[1];
        Assert.Equal((2, 1, 1, 0), (today.Succeeded, today.PartiallySucceeded, today.Failed, today.Interrupted));
        Assert.Equal(200_000_000, today.AverageSizeBytes!.Value, 3);
        Assert.Equal(80.0 / 3, today.AverageDurationSeconds!.Value, 3);
        Assert.Equal(600_000_000 / 80.0, today.BytesPerSecond!.Value, 3);

        Assert.Equal([Now.AddHours(-3), Now.AddHours(-1)], hours.Select(h => h.Start));
        Assert.Equal((0, 1, 0), (hours[0].Succeeded, hours[0].PartiallySucceeded, hours[0].Failed));
        Assert.Equal((2, 2), (hours[1].Succeeded, hours[1].Failed));
    }

    [Fact]
    public async Task Bytes_per_target_sum_the_copies_the_ledger_has_as_stored_whatever_their_age()
    {
        (string, CopyStatus) local = ("local", CopyStatus.Stored), s3 = ("s3", CopyStatus.Stored);
        await StoredAsync("prod", 24 * 400, 1, local, s3);
        await StoredAsync("prod", 24 * 8, 10, ("local", CopyStatus.Deleted), s3);
        await StoredAsync("prod", 24 * 3, 100, local, ("s3", CopyStatus.Pending));
        await StoredAsync("prod", 24 * 2, 1_000, local, ("s3", CopyStatus.Failed));
        await StoredAsync("prod", 24 * 1, 10_000, ("local", CopyStatus.Deleted), ("s3", CopyStatus.Deleted));
        await StoredAsync("staging", 1, 100_000, local, s3);

        var usage = await _store.StoredBytesAsync("prod", ["local", "s3"], CancellationToken.None);
        var idle = await _store.StoredBytesAsync("idle", ["local"], CancellationToken.None);

        Assert.Equal([("local", 3, 1_101L), ("s3", 2, 11L)], usage.Select(u => (u.Target, u.Copies, u.Bytes)));
        Assert.Equal([("local", 0, 0L)], idle.Select(u => (u.Target, u.Copies, u.Bytes)));
    }

    [Fact]
    public async Task Bytes_per_target_equal_the_files_each_store_holds_after_retention()
    {
        await using var s3 = await S3rver.StartAsync();
        var spec = new ClusterSpec(ClusterName.Parse("test"), [new Uri("http://127.0.0.1:1")], null, null, [])
        {
            Backup = BackupPolicy.Default with { Targets = ["local", "s3"], Retention = new RetentionPolicy(3, null) },
        };
        using var harness = new BackupHarness(spec, s3: s3);
        var records = new List<BackupRecord>();
        for (var i = 5; i >= 1; i--)
        {
            records.Add(await RetentionPassTests.SnapshotAsync(harness, i, (int)Math.Pow(10, 5 - i), "local", "s3"));
        }

        // Removed by hand from the local directory: retention keeps the next one there instead, and the ledger must follow.
        File.Delete(Path.Combine(harness.Store.Directory, records[3].FileName!));

        await RetentionPassTests.Pass(harness, new ManualClock(Now)).RunAsync(harness.Cluster, records[^1].FileName);

        var usage = await harness.Records.StoredBytesAsync("test", ["local", "s3"], CancellationToken.None);
        foreach (var store in harness.Stores.All)
        {
            var files = await store.ListAsync(spec.Name, withManifests: false, CancellationToken.None);
            Assert.Equal((store.Target, files.Count, files.Sum(f => f.SizeBytes)), usage.Select(u => (u.Target, u.Copies, u.Bytes)).Single(u => u.Target == store.Target));
        }

        Assert.Equal([("local", 3, 10_110L), ("s3", 3, 11_100L)], usage.Select(u => (u.Target, u.Copies, u.Bytes)));
    }

    public static TheoryData<BackupSort> Sorts => [.. Enum.GetValues<BackupSort>()];

    [Theory]
    [MemberData(nameof(Sorts))]
    public async Task Records_sort_by_each_column_both_ways(BackupSort sort)
    {
        string[] members = ["m2", "m3", "m1", "m4"];
        for (var i = 0; i < 12; i++)
        {
            var status = (BackupStatus)(i % 5);
            await AddAsync($"c{(i * 7) % 5}", status, 100 - (i * 3 % 11), size: 1000 + (i * 37 % 13), seconds: 1 + (i * 5 % 7),
                trigger: (BackupTrigger)(i % 4), member: members[i % 4], revision: 500 - (i * 13 % 17));
        }

        var all = (await _store.QueryAsync(new BackupQuery(Take: 100), CancellationToken.None)).Items;
        Func<BackupRecord, object?> key = sort switch
        {
            BackupSort.StartedAt => r => r.StartedAt,
            BackupSort.FinishedAt => r => r.FinishedAt,
            BackupSort.Cluster => r => r.Cluster,
            BackupSort.Status => r => r.Status.ToString(),
            BackupSort.Trigger => r => r.Trigger.ToString(),
            BackupSort.Size => r => r.SizeBytes,
            BackupSort.Revision => r => r.Revision,
            BackupSort.Member => r => r.Member,
            BackupSort.Duration => r => r.Duration,
            _ => throw new ArgumentOutOfRangeException(nameof(sort)),
        };

        var ascending = await _store.QueryAsync(new BackupQuery(SortBy: sort, Descending: false, Take: 100), CancellationToken.None);
        var descending = await _store.QueryAsync(new BackupQuery(SortBy: sort, Descending: true, Take: 100), CancellationToken.None);

        // Ties are broken by id, the same way as the sort; nulls come first ascending, as SQLite orders them.
        Assert.Equal(all.OrderBy(key, Comparer<object?>.Default).ThenBy(r => r.Id).Select(r => r.Id), ascending.Items.Select(r => r.Id));
        Assert.Equal(all.OrderByDescending(key, Comparer<object?>.Default).ThenByDescending(r => r.Id).Select(r => r.Id), descending.Items.Select(r => r.Id));
        Assert.True(ascending.Items.Select(key).Distinct().Count() > 2, $"{sort}: the records must differ in it, or the test proves nothing");
    }

    [Fact]
    public async Task Filters_combine_and_pages_follow_them()
    {
        for (var i = 0; i < 30; i++)
        {
            await AddAsync(i % 3 == 0 ? "prod" : "staging", i % 4 == 0 ? BackupStatus.Failed : BackupStatus.Succeeded, i * 10, size: i, trigger: i % 5 == 0 ? BackupTrigger.Manual : BackupTrigger.Scheduled);
        }

        var since = Now.AddHours(-100);
        var prodFailed = await _store.QueryAsync(new BackupQuery("prod", BackupStatus.Failed), CancellationToken.None);
        var manual = await _store.QueryAsync(new BackupQuery(Trigger: BackupTrigger.Manual, From: since), CancellationToken.None);
        var window = await _store.QueryAsync(new BackupQuery(From: Now.AddHours(-200), Until: Now.AddHours(-100), SortBy: BackupSort.Size, Descending: false, Skip: 3, Take: 4), CancellationToken.None);

        Assert.Equal([0L, 12, 24], prodFailed.Items.Select(r => r.SizeBytes!.Value).Order());
        Assert.Equal(3, prodFailed.Total);
        Assert.Equal([0L, 5, 10], manual.Items.Select(r => r.SizeBytes!.Value).Order());
        Assert.Equal(10, window.Total);
        Assert.Equal([14L, 15, 16, 17], window.Items.Select(r => r.SizeBytes!.Value));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    public sealed class OnSqlite() : BackupAggregatesTests(null);

    [Collection(PostgresCollection.Name)]
    public sealed class OnPostgres(PostgresServer postgres) : BackupAggregatesTests(postgres);
}
