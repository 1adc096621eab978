using Console.Infrastructure.Scheduling;
using Console.Web.Tests.Fixtures;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage.SQLite;

namespace Console.Web.Tests.Infrastructure.Scheduling;

/// <summary>
/// The per-cluster claims of scheduled occurrences, on both of Hangfire's stores: a lease held by a replica that died
/// is taken over by the next occurrence, a live holder's is not, and a redelivered occurrence never runs twice.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScheduleStateStoreTests(PostgresServer postgres)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 6, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset T1 = T0.AddMinutes(1);
    private static readonly ClaimHolder A = new("replica-a", T0.AddHours(-1));
    private static readonly ClaimHolder B = new("replica-b", T0.AddHours(-1));

    public enum Store
    {
        Sqlite,
        Postgres,
    }

    private async Task<(JobStorage Storage, IDisposable Cleanup)> StorageAsync(Store store)
    {
        if (store == Store.Postgres)
        {
            var options = new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true };
            var connectionString = await postgres.CreateDatabaseAsync();
            return (new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options), new TestDirectory("unused"));
        }

        var data = new TestDirectory("claims");
        var sqlite = new SQLiteStorage(data.Combine(HangfireSetup.SqliteFileName), new SQLiteStorageOptions());
        return (sqlite, data);
    }

    private async Task<ScheduleClaim> AfterHeldByAsync(Store store, ClaimHolder holder, ClaimHolder claimant, IReadOnlyCollection<ClaimHolder>? alive, DateTimeOffset occurrence)
    {
        var (storage, cleanup) = await StorageAsync(store);
        using (cleanup)
        using (storage as IDisposable)
        using (var states = new ScheduleStateStore(storage, sharedStore: store == Store.Postgres))
        {
            // The holder claimed T0 and was never heard from again: its lease (2 minutes) still runs at T1.
            Assert.Equal(ScheduleClaim.Claimed, await states.ClaimAsync("c", T0, T0, holder, alive, CancellationToken.None));
            Assert.Equal(holder, states.HolderOf("c"));
            var claim = await states.ClaimAsync("c", occurrence, T1, claimant, alive, CancellationToken.None);
            Assert.Equal(claim is ScheduleClaim.Claimed or ScheduleClaim.TakenOver ? claimant : holder, states.HolderOf("c"));
            return claim;
        }
    }

    [Theory]
    [InlineData(Store.Sqlite)]
    [InlineData(Store.Postgres)]
    public async Task The_next_occurrence_takes_over_a_lease_whose_holder_has_no_recent_heartbeat(Store store) =>
        Assert.Equal(ScheduleClaim.TakenOver, await AfterHeldByAsync(store, A, B, alive: [B], T1));

    [Theory]
    [InlineData(Store.Sqlite)]
    [InlineData(Store.Postgres)]
    public async Task The_next_occurrence_is_busy_while_a_live_holder_runs_the_previous_one(Store store) =>
        Assert.Equal(ScheduleClaim.Busy, await AfterHeldByAsync(store, A, B, alive: [A, B], T1));

    [Fact]
    public async Task A_holder_restarted_under_the_same_name_is_another_replica_and_its_old_lease_is_taken_over()
    {
        var restarted = A with { StartedAt = T1.AddSeconds(-5) };
        Assert.Equal(ScheduleClaim.TakenOver, await AfterHeldByAsync(Store.Sqlite, A, restarted, alive: [restarted, B], T1));
    }

    [Fact]
    public async Task A_lease_held_by_this_very_replica_stays_busy_whatever_the_heartbeats_say() =>
        Assert.Equal(ScheduleClaim.Busy, await AfterHeldByAsync(Store.Sqlite, A, A, alive: [], T1));

    [Theory]
    [InlineData(Store.Sqlite)]
    [InlineData(Store.Postgres)]
    public async Task A_redelivered_occurrence_stays_already_taken_even_when_its_holder_died(Store store) =>
        Assert.Equal(ScheduleClaim.AlreadyTaken, await AfterHeldByAsync(store, A, B, alive: [B], T0));

    [Fact]
    public async Task One_console_without_heartbeats_waits_for_the_lease_as_before()
    {
        Assert.Equal(ScheduleClaim.Busy, await AfterHeldByAsync(Store.Sqlite, A, B, alive: null, T1));

        using var data = new TestDirectory("claims");
        using var storage = new SQLiteStorage(data.Combine(HangfireSetup.SqliteFileName), new SQLiteStorageOptions());
        using var states = new ScheduleStateStore(storage, sharedStore: false);
        Assert.Equal(ScheduleClaim.Claimed, await states.ClaimAsync("c", T0, T0, CancellationToken.None));
        Assert.Equal(ScheduleClaim.Busy, await states.ClaimAsync("c", T1, T1, CancellationToken.None));
        Assert.Equal(ScheduleClaim.Claimed, await states.ClaimAsync("c", T1.AddMinutes(2), T0 + ScheduleStateStore.Lease, CancellationToken.None));
    }

    [Fact]
    public async Task A_lease_without_a_recorded_holder_is_taken_over_once_replicas_share_the_store()
    {
        using var data = new TestDirectory("claims");
        using var storage = new SQLiteStorage(data.Combine(HangfireSetup.SqliteFileName), new SQLiteStorageOptions());
        using var states = new ScheduleStateStore(storage, sharedStore: false);

        // A claim written before claims named their holder (or by a console without a name): nobody can vouch for it.
        Assert.Equal(ScheduleClaim.Claimed, await states.ClaimAsync("c", T0, T0, CancellationToken.None));
        Assert.Null(states.HolderOf("c"));
        Assert.Equal(ScheduleClaim.TakenOver, await states.ClaimAsync("c", T1, T1, B, [A, B], CancellationToken.None));
        Assert.Equal(B, states.HolderOf("c"));
    }

    [Fact]
    public async Task Renewing_keeps_the_holder_and_releasing_frees_the_cluster()
    {
        using var data = new TestDirectory("claims");
        using var storage = new SQLiteStorage(data.Combine(HangfireSetup.SqliteFileName), new SQLiteStorageOptions());
        using var states = new ScheduleStateStore(storage, sharedStore: false);

        Assert.Equal(ScheduleClaim.Claimed, await states.ClaimAsync("c", T0, T0, A, [A], CancellationToken.None));
        await states.RenewAsync("c", T0, T0.AddSeconds(30), CancellationToken.None);
        Assert.Equal(A, states.HolderOf("c"));
        Assert.Equal(ScheduleClaim.Busy, await states.ClaimAsync("c", T1, T1, B, [A, B], CancellationToken.None));
        await states.ReleaseAsync("c", T0, CancellationToken.None);
        Assert.Equal(ScheduleClaim.Claimed, await states.ClaimAsync("c", T1, T1, B, [A, B], CancellationToken.None));
    }
}
