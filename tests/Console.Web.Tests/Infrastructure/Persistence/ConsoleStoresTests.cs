using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Infrastructure.Access;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Restore;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Persistence;

/// <summary>
/// Every store's SQL on both providers, the same assertions: upserts, identities handed back, case-insensitive names,
/// booleans, the one active restore per cluster, lockout counted in one statement.
/// </summary>
public abstract class ConsoleStoresTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private readonly TestDatabase _data;

    protected ConsoleStoresTests(PostgresServer? postgres)
    {
        _data = TestDatabase.Create("stores", postgres);
    }

    private ConsoleDatabase Database => _data.Database;

    [Fact]
    public async Task Users_are_unique_whatever_the_case_and_lock_after_the_last_allowed_failure()
    {
        var users = new UserStore(Database);
        var alice = await users.InsertAsync("Alice", Role.Operator, "hash", mustChangePassword: true, "setup", Now, CancellationToken.None);
        Assert.NotNull(alice);
        Assert.Null(await users.InsertAsync("alice", Role.Viewer, "hash", mustChangePassword: false, "setup", Now, CancellationToken.None));
        Assert.Equal(alice!.Id, (await users.FindAsync("ALICE", CancellationToken.None))!.Id);
        Assert.True(alice.MustChangePassword);
        Assert.Equal(Now, alice.CreatedAt);

        Assert.Equal((1, (DateTimeOffset?)null), await users.RecordFailureAsync(alice.Id, 2, Now, Now.AddMinutes(15), CancellationToken.None));
        Assert.Equal((0, (DateTimeOffset?)Now.AddMinutes(15)), await users.RecordFailureAsync(alice.Id, 2, Now, Now.AddMinutes(15), CancellationToken.None));
        Assert.False(await users.RecordSuccessAsync(alice.Id, Now.AddMinutes(1), CancellationToken.None));
        Assert.True(await users.RecordSuccessAsync(alice.Id, Now.AddMinutes(16), CancellationToken.None));

        await users.SetRoleAsync(alice.Id, Role.Admin, CancellationToken.None);
        Assert.Equal(1, await users.EnabledAdminsAsync(CancellationToken.None));
        await users.SetDisabledAsync(alice.Id, disabled: true, CancellationToken.None);
        Assert.Equal(0, await users.EnabledAdminsAsync(CancellationToken.None));
        Assert.Equal(1, await users.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Tokens_are_unique_by_name_and_hash_and_revoked_ones_list_last()
    {
        var tokens = new ApiTokenStore(Database);
        var ci = await tokens.InsertAsync("ci", Role.Operator, new string('a', 64), "admin", Now, CancellationToken.None);
        var backup = await tokens.InsertAsync("backup", Role.Viewer, new string('b', 64), "admin", Now, CancellationToken.None);
        Assert.Null(await tokens.InsertAsync("CI", Role.Viewer, new string('c', 64), "admin", Now, CancellationToken.None));
        Assert.Null(await tokens.InsertAsync("other", Role.Viewer, new string('a', 64), "admin", Now, CancellationToken.None));

        Assert.True(await tokens.RevokeAsync(backup!.Id, Now, CancellationToken.None));
        Assert.False(await tokens.RevokeAsync(backup.Id, Now, CancellationToken.None));
        await tokens.TouchAsync(ci!.Id, Now, CancellationToken.None);

        Assert.Equal(["ci", "backup"], (await tokens.ListAsync(CancellationToken.None)).Select(t => t.Name));
        Assert.Equal(Now, (await tokens.FindLiveAsync(new string('a', 64), CancellationToken.None))!.LastUsedAt);
        Assert.Null(await tokens.FindLiveAsync(new string('b', 64), CancellationToken.None));
    }

    [Fact]
    public async Task Overrides_and_console_state_are_replaced_not_duplicated()
    {
        var overrides = new BackupOverrideStore(Database);
        await overrides.SaveAsync("prod", new BackupOverride(Paused: true, Interval: "1h"), "alice", Now, CancellationToken.None);
        await overrides.SaveAsync("prod", new BackupOverride(Paused: false, Cron: "0 * * * *", RetentionCount: 7, ClearRetentionMaxAge: true), "bob", Now, CancellationToken.None);
        Assert.Equal(new BackupOverride(Paused: false, Cron: "0 * * * *", RetentionCount: 7, ClearRetentionMaxAge: true), Assert.Single(await overrides.LoadAsync(CancellationToken.None)).Value);

        var state = new ConsoleStateStore(Database);
        await state.SetAsync("admin-reset", "one", Now, CancellationToken.None);
        await state.SetAsync("admin-reset", "two", Now, CancellationToken.None);
        Assert.Equal("two", await state.GetAsync("admin-reset", CancellationToken.None));
        await state.SetAsync("admin-reset", null, Now, CancellationToken.None);
        Assert.Null(await state.GetAsync("admin-reset", CancellationToken.None));
    }

    [Fact]
    public async Task One_restore_session_is_active_per_cluster_and_its_audit_trail_keeps_its_order()
    {
        var sessions = new RestoreSessionStore(Database);
        var first = (await sessions.TryCreateAsync(new RestoreSession { Cluster = "prod", StartedBy = "alice" }, Now, CancellationToken.None))!;
        Assert.Null(await sessions.TryCreateAsync(new RestoreSession { Cluster = "prod", StartedBy = "bob" }, Now, CancellationToken.None));
        Assert.Equal(first.Id, (await sessions.ActiveAsync("prod", CancellationToken.None))!.Id);

        await sessions.AuditAsync(first.Id, new RestoreAuditEntry(Now, "alice", "Plan", "plan", "ok", "a"), CancellationToken.None);
        await sessions.AuditAsync(first.Id, new RestoreAuditEntry(Now, "alice", "Stop", "stop", "ok", "b"), CancellationToken.None);
        await sessions.SaveAsync(first with { Step = Console.Domain.Restore.RestoreStep.Done }, Now, CancellationToken.None);

        Assert.Null(await sessions.ActiveAsync("prod", CancellationToken.None));
        Assert.Empty(await sessions.AllActiveAsync(CancellationToken.None));
        Assert.Equal(first.Id, (await sessions.LatestAsync("prod", CancellationToken.None))!.Id);
        Assert.Equal(["a", "b"], (await sessions.AuditTrailAsync(first.Id, CancellationToken.None)).Select(e => e.Detail));
        Assert.NotEqual(first.Id, (await sessions.TryCreateAsync(new RestoreSession { Cluster = "prod", StartedBy = "bob" }, Now, CancellationToken.None))!.Id);
    }

    [Fact]
    public async Task The_ledger_upserts_copies_protects_snapshots_and_keeps_the_latest_verification()
    {
        var records = new BackupRecordStore(Database);
        var ledger = new SnapshotLedger(Database);
        var id = await records.InsertFinishedAsync(new BackupRecord { Cluster = "prod", StartedAt = Now, Status = BackupStatus.Succeeded, FileName = "prod_1.db", SizeBytes = 10 }, CancellationToken.None);
        await ledger.SaveCopyAsync(new BackupCopy(id, "s3", CopyStatus.Pending, null, null, 1), Now, CancellationToken.None);
        Assert.Equal("s3", Assert.Single(await ledger.PendingUploadsAsync(CancellationToken.None)).Target);
        await ledger.SaveCopyAsync(new BackupCopy(id, "s3", CopyStatus.Stored, "s3://b/prod_1.db", null, 2), Now, CancellationToken.None);
        Assert.Equal(new BackupCopy(id, "s3", CopyStatus.Stored, "s3://b/prod_1.db", null, 2), Assert.Single(await ledger.CopiesAsync(id, CancellationToken.None)));

        var gone = await ledger.ReconcileAsync("prod", "s3", new HashSet<string>(), Now.AddMinutes(1), Now.AddMinutes(1), CancellationToken.None);
        Assert.Equal(["prod_1.db"], gone.Missing);
        var back = await ledger.ReconcileAsync("prod", "s3", new HashSet<string> { "prod_1.db" }, Now.AddMinutes(2), Now.AddMinutes(2), CancellationToken.None);
        Assert.Equal(["prod_1.db"], back.Reappeared);

        await ledger.ProtectAsync("prod_1.db", "prod", "alice", Now, Now.AddDays(1), CancellationToken.None);
        await ledger.ProtectAsync("prod_old.db", "prod", "alice", Now, Now.AddHours(-1), CancellationToken.None);
        Assert.Equal(["prod_1.db"], await ledger.ProtectedAsync(Now, CancellationToken.None));
        Assert.Equal(["prod_1.db", "prod_old.db"], (await ledger.KnownFileNamesAsync("prod", CancellationToken.None)).Order(StringComparer.Ordinal));
        await ledger.UnprotectAsync("prod_1.db", CancellationToken.None);
        Assert.Empty(await ledger.ProtectedAsync(Now, CancellationToken.None));

        await ledger.RecordVerificationAsync(new Verification("prod_1.db", "s3", Now, false, "bad footer", "alice"), CancellationToken.None);
        await ledger.RecordVerificationAsync(new Verification("prod_1.db", "s3", Now.AddMinutes(1), true, "ok", "alice"), CancellationToken.None);
        Assert.Equal(new Verification("prod_1.db", "s3", Now.AddMinutes(1), true, "ok", "alice"), (await ledger.LatestVerificationsAsync(CancellationToken.None))[("prod_1.db", "s3")]);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    public sealed class OnSqlite() : ConsoleStoresTests(null);

    [Collection(PostgresCollection.Name)]
    public sealed class OnPostgres(PostgresServer postgres) : ConsoleStoresTests(postgres);
}
