using Console.Domain.Backups;
using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Replicas;
using Console.Web.Tests.Fixtures;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Console.Web.Tests.Infrastructure.Replicas;

/// <summary>The replicas table, the sweeper and start-up's settling of Running records, on both providers.</summary>
public abstract class ReplicaMonitorTests : IDisposable
{
    private static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(30);
    private readonly TestDatabase _data;
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 12, 2, 5, 0, 0, TimeSpan.Zero));
    private readonly BackupRecordStore _records;
    private readonly ReplicaStore _replicas;

    protected ReplicaMonitorTests(PostgresServer? postgres)
    {
        _data = TestDatabase.Create("replicas", postgres);
        _records = new BackupRecordStore(_data.Database);
        _replicas = new ReplicaStore(_data.Database);
    }

    private bool IsPostgres => _data.Database.IsPostgres;

    private ReplicaIdentity Replica(string name) => new(Settings(name), new ConfigurationBuilder().Build(), _clock);

    private IOptions<ConsoleSettings> Settings(string name) =>
        Options.Create(_data.Settings with { Replica = new ReplicaSettings { Name = name, DeadAfter = DeadAfter } });

    private ReplicaMonitor Monitor(string name) =>
        new(Replica(name), _replicas, _records, _data.Database, Settings(name), _clock, NullLogger<ReplicaMonitor>.Instance);

    private Task<long> RunningAsync(string? replica, string cluster = "prod") =>
        _records.InsertRunningAsync(new BackupRecord { Cluster = cluster, StartedAt = _clock.GetUtcNow(), Replica = replica }, CancellationToken.None);

    private async Task<BackupRecord> RecordAsync(long id) => (await _records.GetAsync(id, CancellationToken.None))!;

    [Fact]
    public async Task A_heartbeat_keeps_one_row_per_name_and_moves_its_last_seen()
    {
        var a = Replica("a");
        await _replicas.HeartbeatAsync(a, _clock.GetUtcNow(), CancellationToken.None);
        await _replicas.HeartbeatAsync(Replica("b"), _clock.GetUtcNow(), CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(5));
        await _replicas.HeartbeatAsync(a, _clock.GetUtcNow(), CancellationToken.None);

        var all = await _replicas.AllAsync(CancellationToken.None);

        Assert.Equal(["a", "b"], all.Select(r => r.Name));
        Assert.Equal(_clock.GetUtcNow(), all[0].LastSeen);
        Assert.Equal(a.StartedAt, all[0].StartedAt);
        Assert.Equal(_clock.GetUtcNow() - TimeSpan.FromSeconds(5), all[1].LastSeen);
        Assert.True(all[1].IsAliveAt(_clock.GetUtcNow(), DeadAfter));
        Assert.False(all[1].IsAliveAt(_clock.GetUtcNow() + DeadAfter, DeadAfter));
    }

    [Fact]
    public async Task A_record_keeps_its_replica_and_occurrence()
    {
        var occurrence = new DateTimeOffset(2026, 12, 2, 4, 0, 0, TimeSpan.Zero);
        var id = await _records.InsertRunningAsync(new BackupRecord { Cluster = "prod", Trigger = BackupTrigger.Scheduled, StartedAt = _clock.GetUtcNow(), Replica = "web-1:8080", Occurrence = occurrence }, CancellationToken.None);
        var manual = await RunningAsync("web-2:8080");

        Assert.Equal(("web-1:8080", (DateTimeOffset?)occurrence), ((await RecordAsync(id)).Replica, (await RecordAsync(id)).Occurrence));
        Assert.Null((await RecordAsync(manual)).Occurrence);
        Assert.Equal((manual, "web-2:8080"), (await _records.RunningOfAsync("prod", CancellationToken.None))!.Value);
    }

    [Fact]
    public async Task The_sweeper_interrupts_only_the_runs_of_replicas_not_heard_from_within_DeadAfter()
    {
        var seen = _clock.GetUtcNow();
        await _replicas.HeartbeatAsync(Replica("dead"), seen, CancellationToken.None);
        var ofDead = await RunningAsync("dead");
        var ofGone = await RunningAsync("never-beat", "staging");
        _clock.Advance(DeadAfter + TimeSpan.FromSeconds(1));
        await _replicas.HeartbeatAsync(Replica("alive"), _clock.GetUtcNow(), CancellationToken.None);
        var ofAlive = await RunningAsync("alive", "qa");
        var ofSelf = await RunningAsync("self", "dev");

        var swept = await Monitor("self").SweepAsync(CancellationToken.None);

        Assert.Equal(2, swept);
        var dead = await RecordAsync(ofDead);
        Assert.Equal(BackupStatus.Interrupted, dead.Status);
        Assert.Equal(_clock.GetUtcNow(), dead.FinishedAt);
        Assert.Contains("replica 'dead' stopped", dead.Error, StringComparison.Ordinal);
        Assert.Contains($"last seen {seen:yyyy-MM-dd HH:mm:ss}Z", dead.Error, StringComparison.Ordinal);
        Assert.Contains("replica 'never-beat' stopped", (await RecordAsync(ofGone)).Error, StringComparison.Ordinal);
        Assert.Equal(BackupStatus.Running, (await RecordAsync(ofAlive)).Status);
        Assert.Equal(BackupStatus.Running, (await RecordAsync(ofSelf)).Status);
        Assert.Equal(0, await Monitor("self").SweepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_replica_heard_from_again_keeps_its_runs()
    {
        await _replicas.HeartbeatAsync(Replica("slow"), _clock.GetUtcNow(), CancellationToken.None);
        var id = await RunningAsync("slow");
        _clock.Advance(DeadAfter * 2);
        var deadBefore = _clock.GetUtcNow() - DeadAfter;

        // Found dead, then it beats before the sweeper writes: the update re-checks and leaves its run alone.
        Assert.Single(await _records.DeadRunnersAsync("self", deadBefore, CancellationToken.None));
        await _replicas.HeartbeatAsync(Replica("slow"), _clock.GetUtcNow(), CancellationToken.None);
        Assert.Equal(0, await _records.MarkInterruptedAsync("slow", _clock.GetUtcNow(), deadBefore, "x", CancellationToken.None));
        Assert.Equal(BackupStatus.Running, (await RecordAsync(id)).Status);
    }

    [Fact]
    public async Task Start_up_settles_its_own_and_dead_replicas_runs_and_alone_on_SQLite_every_run()
    {
        await _replicas.HeartbeatAsync(Replica("peer"), _clock.GetUtcNow(), CancellationToken.None);
        var ofPeer = await RunningAsync("peer", "qa");
        var ofSelf = await RunningAsync("self");
        var unnamed = await RunningAsync(null, "staging");

        var settled = await Monitor("self").SettleAtStartAsync(CancellationToken.None);

        Assert.Equal(BackupStatus.Interrupted, (await RecordAsync(ofSelf)).Status);
        Assert.Contains("console stopped", (await RecordAsync(ofSelf)).Error, StringComparison.Ordinal);
        Assert.Equal(BackupStatus.Interrupted, (await RecordAsync(unnamed)).Status);

        // Several replicas share PostgreSQL: a live peer's run is its own. SQLite has one console: whatever was Running stopped with it.
        Assert.Equal(IsPostgres ? BackupStatus.Running : BackupStatus.Interrupted, (await RecordAsync(ofPeer)).Status);
        Assert.Equal(IsPostgres ? 2 : 3, settled);
        Assert.Contains("self", (await _replicas.AllAsync(CancellationToken.None)).Select(r => r.Name));
    }

    [Fact]
    public async Task One_backup_lock_per_cluster_on_postgres_released_when_its_holder_ends_or_dies()
    {
        var locks = new ClusterBackupLocks(_data.Database);
        var first = await locks.TryTakeAsync("prod", CancellationToken.None);
        Assert.NotNull(first);
        var second = await locks.TryTakeAsync("prod", CancellationToken.None);
        var other = await locks.TryTakeAsync("staging", CancellationToken.None);
        Assert.NotNull(other);
        await other.DisposeAsync();
        if (!IsPostgres)
        {
            Assert.NotNull(second); // one console: its own dictionary is the lock
            return;
        }

        Assert.Null(second);
        await first.DisposeAsync();
        var again = await locks.TryTakeAsync("prod", CancellationToken.None);
        Assert.NotNull(again);

        // The holder's connection dies (its replica was killed): the database releases the lock.
        await using (var admin = await _data.Database.OpenAsync(CancellationToken.None))
        {
            await admin.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()");
        }

        var afterDeath = await Eventually.ValueAsync(() => locks.TryTakeAsync("prod", CancellationToken.None), l => l is not null, TimeSpan.FromSeconds(30));
        await afterDeath!.DisposeAsync();
        await again.DisposeAsync(); // its connection is gone: releasing says so in the log, never throws
    }

    [Fact]
    public async Task One_replica_at_a_time_re_verifies_on_postgres_whatever_backups_hold()
    {
        var locks = new ClusterBackupLocks(_data.Database);
        await using var backup = await locks.TryTakeAsync("prod", CancellationToken.None);
        var first = await locks.TryTakeReverificationAsync(CancellationToken.None);
        Assert.NotNull(first);
        var second = await locks.TryTakeReverificationAsync(CancellationToken.None);
        await first.DisposeAsync();
        var afterwards = await locks.TryTakeReverificationAsync(CancellationToken.None);

        Assert.NotNull(afterwards);
        await afterwards.DisposeAsync();
        if (IsPostgres)
        {
            Assert.Null(second);
        }
        else
        {
            Assert.NotNull(second); // one console: nothing to share the pass with
        }
    }

    [Fact]
    public void The_lock_key_is_stable_and_differs_between_clusters()
    {
        Assert.Equal(ClusterBackupLocks.KeyFor("prod"), ClusterBackupLocks.KeyFor("prod"));
        Assert.NotEqual(ClusterBackupLocks.KeyFor("prod"), ClusterBackupLocks.KeyFor("staging"));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    public sealed class OnSqlite() : ReplicaMonitorTests(null);

    [Collection(PostgresCollection.Name)]
    public sealed class OnPostgres(PostgresServer postgres) : ReplicaMonitorTests(postgres);
}
