using System.Data.Common;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Console.Domain.Access;
using Console.Domain.Alerts;
using Console.Domain.Backups;
using Console.Infrastructure.Access;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Restore;
using Console.Web.Tests.Fixtures;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Console.Web.Tests.EndToEnd;

/// <summary>
/// `Console.Web copy-state`: an SQLite console.db written by the real stores, copied into a real PostgreSQL 15 by the
/// real command, then a console started on the copy.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CopyStateTests(PostgresServer postgres)
{
    private const string Password = "copy-state-never-print-this";
    private const string UserPassword = "a-long-password-of-the-user";
    private const string Token = "copied-api-token-for-tests";
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Copies_every_table_row_for_row_and_a_console_on_the_copy_lists_the_records_and_signs_in_the_users()
    {
        using var source = TestDatabase.Create("copy-source", postgres: null);
        var ids = await FillAsync(source.Database);
        var target = WithPassword(await postgres.CreateDatabaseAsync());

        using var process = ConsoleProcess.Start(new Dictionary<string, string> { ["CONSOLE_TARGET_DB"] = target }, ["copy-state", "--from", source.Database.FilePath!, "--to-env", "CONSOLE_TARGET_DB"]);

        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        Assert.DoesNotContain(Password, process.Output + process.Error, StringComparison.Ordinal);
        var tables = await SourceTablesAsync(source.Database.FilePath!);
        Assert.Superset(new HashSet<string>(["backups", "backup_copies", "verifications", "protected_snapshots", "backup_overrides", "restore_sessions", "restore_audit", "users", "api_tokens", "audit_log", "console_state"]), tables.ToHashSet());
        await using (var sqlite = new SqliteConnection($"Data Source={source.Database.FilePath};Mode=ReadOnly;Pooling=False"))
        await using (var copy = new NpgsqlConnection(target))
        {
            foreach (var table in tables)
            {
                var expected = await RowsAsync(sqlite, table);
                Assert.True(expected.Count > 0, $"the source's {table} has rows to copy");
                Assert.Equal(expected, await RowsAsync(copy, table));
                Assert.Matches($@"(?m)^\s+{table}\s+{expected.Count}\s*$", process.Output);
            }
        }

        var settings = new Dictionary<string, string?>
        {
            ["Console:Database:Provider"] = "postgres",
            ["Console:Database:ConnectionString"] = target,
            ["Console:DataProtection:KeyEncryptionKey"] = TestTokens.KeyEncryptionKey,
            ["Console:Clusters:0:Name"] = "prod",
            ["Console:Clusters:0:Endpoints:0"] = "http://127.0.0.1:9",
        };
        await using var app = ConsoleApp.Start(settings);
        using var api = new HttpClient { BaseAddress = app.Address };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var listed = await api.GetFromJsonAsync<JsonElement>("/api/backups?cluster=prod");
        Assert.Equal(ids.Order(), listed.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetInt64()).Order());

        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new System.Net.CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = app.Address };
        Assert.Equal(System.Net.HttpStatusCode.Redirect, (await ConsoleApp.SignInAsync(browser, "alice", UserPassword)).StatusCode);

        // The identity sequences were moved past the copied ids: the next record does not collide with one.
        var next = await app.Services.GetRequiredService<BackupRecordStore>().InsertRunningAsync(new BackupRecord { Cluster = "prod", StartedAt = Now }, CancellationToken.None);
        Assert.True(next > ids.Max(), $"new id {next} after the copied ones ({ids.Max()})");
    }

    [Fact]
    public async Task A_target_with_rows_is_refused_naming_the_table_and_left_as_it_was()
    {
        using var source = TestDatabase.Create("copy-nonempty", postgres: null);
        await FillAsync(source.Database);
        var target = await postgres.CreateDatabaseAsync();
        var targetDatabase = new ConsoleDatabase(Microsoft.Extensions.Options.Options.Create(new Console.Domain.Configuration.ConsoleSettings
        {
            Database = new Console.Domain.Configuration.DatabaseSettings { Provider = "postgres", ConnectionString = target },
        }));
        await targetDatabase.MigrateAsync(CancellationToken.None);
        await new ConsoleStateStore(targetDatabase).SetAsync("already-here", "yes", Now, CancellationToken.None);
        var before = await CountsAsync(target);

        var (code, _, error) = await RunInProcessAsync(source.Database.FilePath!, target);

        Assert.Equal(2, code);
        Assert.Contains("is not empty: its table console_state has rows", error, StringComparison.Ordinal);
        Assert.Equal(before, await CountsAsync(target));
    }

    [Fact]
    public async Task A_source_of_another_schema_version_is_refused_telling_to_start_the_console_on_it_and_nothing_is_made()
    {
        using var source = TestDatabase.Create("copy-old", postgres: null);
        await FillAsync(source.Database);
        await using (var sqlite = new SqliteConnection($"Data Source={source.Database.FilePath};Pooling=False"))
        {
            await sqlite.ExecuteAsync("DELETE FROM schema_version WHERE version = (SELECT MAX(version) FROM schema_version)");
        }

        var target = await postgres.CreateDatabaseAsync();

        var (code, _, error) = await RunInProcessAsync(source.Database.FilePath!, target);

        Assert.Equal(2, code);
        Assert.Contains($"has schema version {ConsoleDatabase.SchemaVersion - 1}, older than this console's ({ConsoleDatabase.SchemaVersion}). Start this version of the console once on it", error, StringComparison.Ordinal);
        Assert.Empty(await CountsAsync(target));
    }

    [Fact]
    public async Task Refusals_and_a_missing_variable_never_print_the_connection_string()
    {
        using var data = new TestDirectory("copy-missing");
        var target = WithPassword(await postgres.CreateDatabaseAsync());

        var (missingFile, output, error) = await RunInProcessAsync(data.Combine("console.db"), target);
        Assert.Equal(2, missingFile);
        Assert.Contains("There is no file", error, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, output + error, StringComparison.Ordinal);

        using var process = ConsoleProcess.Start(new Dictionary<string, string>(), ["copy-state", "--from", data.Combine("console.db"), "--to-env", "CONSOLE_COPY_UNSET_VARIABLE", target]);
        Assert.Equal(2, await process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.DoesNotContain(Password, process.Output + process.Error, StringComparison.Ordinal);
    }

    /// <summary>One or more rows in every table, each through the store that writes it in the console. The records' ids.</summary>
    private static async Task<long[]> FillAsync(ConsoleDatabase database)
    {
        var records = new BackupRecordStore(database);
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            var record = new BackupRecord
            {
                Cluster = "prod", Trigger = BackupTrigger.Scheduled, Status = BackupStatus.Succeeded, StartedAt = Now.AddHours(-i), FinishedAt = Now.AddHours(-i).AddSeconds(2),
                FileName = $"prod_{i}.db", SizeBytes = 1000 + i, Sha256 = "ab", Revision = 7, RaftIndex = 9, EtcdVersion = "3.5.16", Member = "m1",
            };
            ids.Add(await records.InsertFinishedAsync(record, CancellationToken.None));
        }

        var ledger = new SnapshotLedger(database);
        await ledger.SaveCopyAsync(new BackupCopy(ids[0], "local", CopyStatus.Stored, "/data/prod_0.db", null, 1), Now, CancellationToken.None);
        await ledger.SaveCopyAsync(new BackupCopy(ids[0], "s3", CopyStatus.Pending, null, "timeout", 2), Now, CancellationToken.None);
        await ledger.ProtectAsync("prod_0.db", "prod", "alice", Now, null, CancellationToken.None);
        await ledger.RecordVerificationAsync(new Verification("prod_0.db", "local", Now, true, "footer ok", "alice"), CancellationToken.None);
        await ledger.RecordVerificationAsync(new Verification("prod_1.db", "local", Now, false, "bad footer", "alice"), CancellationToken.None);
        await new BackupOverrideStore(database).SaveAsync("prod", new BackupOverride(Paused: true, Interval: "2h"), "alice", Now, CancellationToken.None);
        await new ConsoleStateStore(database).SetAsync("admin-reset", "done", Now, CancellationToken.None);
        var sessions = new RestoreSessionStore(database);
        var session = (await sessions.TryCreateAsync(new RestoreSession { Cluster = "prod", StartedBy = "alice", StartedAt = Now }, Now, CancellationToken.None))!;
        await sessions.AuditAsync(session.Id, new RestoreAuditEntry(Now, "alice", "Choose", "chose", "ok", "prod_0.db"), CancellationToken.None);
        var hash = new PasswordHasher<LocalUser>().HashPassword(null!, UserPassword);
        await new UserStore(database).InsertAsync("alice", Role.Operator, hash, mustChangePassword: false, "admin", Now, CancellationToken.None);
        await new ApiTokenStore(database).InsertAsync("copied", Role.Viewer, TestTokens.Sha256(Token), "alice", Now, CancellationToken.None);
        await new AuditLog(database, TimeProvider.System).RecordAsync(TestActors.Of("alice"), "backup.start", "prod", "prod_0.db", AuditOutcome.Succeeded, null, CancellationToken.None);
        var deltas = new DeltaLedger(database);
        await deltas.RecordSegmentAsync(new DeltaSegmentRecord("prod", 7, 9, Now, Now.AddSeconds(1), "prod_0000000000000000007-0000000000000000009.delta", "none", 3, "aa", 100, "aa", 100, ["local"], DeltaSegmentStatus.Ok, null), Now, CancellationToken.None);
        await deltas.RecordBreakAsync("prod", 9, Now, "compacted", CancellationToken.None);
        await deltas.RestartAtAsync("prod", 9, Now, "replica-1 via m1", Now, CancellationToken.None);
        var drills = new DrillLedger(database);
        var drill = new DrillVerdict { Cluster = "prod", FileName = "prod_0.db", Target = "local", BackupId = ids[0], StartedAt = Now, Replica = "replica-1" };
        await drills.FinishAsync(drill with { Id = await drills.StartAsync(drill, CancellationToken.None), Outcome = DrillOutcome.Passed, Revision = 7, KeyCount = 3, Canary = "ok", Rto = TimeSpan.FromSeconds(1.5), FinishedAt = Now.AddSeconds(2), Reason = "footer ok" }, CancellationToken.None);
        await new AlertStore(database).StartAsync(new ActiveCondition(AlertCondition.Stale, "prod", null, "prod is stale", "no backup for 2 h"), Now, ["ops"], "{}", CancellationToken.None);
        return [.. ids];
    }

    /// <summary>The command's own entry point (the process test above covers the real process).</summary>
    private static async Task<(int Code, string Output, string Error)> RunInProcessAsync(string from, string connectionString)
    {
        // Unique per call: tests run in parallel, environment variables are per process.
        var variable = $"CONSOLE_COPY_TEST_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, connectionString);
        try
        {
            using var output = new StringWriter(CultureInfo.InvariantCulture);
            using var error = new StringWriter(CultureInfo.InvariantCulture);
            var code = await CopyStateCommand.RunAsync(["--from", from, "--to-env", variable], output, error, CancellationToken.None);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    /// <summary>The connection string with a password (trust authentication ignores it), to show it is never printed.</summary>
    private static string WithPassword(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString) { Password = Password }.ToString();

    private static async Task<List<string>> SourceTablesAsync(string path)
    {
        await using var sqlite = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        return [.. (await sqlite.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_version'"))
            .Where(t => !CopyState.Skipped.Contains(t))];
    }

    /// <summary>Every row as text, booleans as SQLite's 0/1, sorted: equal lists mean equal tables.</summary>
    private static async Task<List<string>> RowsAsync(DbConnection connection, string table)
    {
        var rows = new List<string>();
        await using var reader = await connection.ExecuteReaderAsync($"SELECT * FROM \"{table}\"");
        while (await reader.ReadAsync())
        {
            var columns = Enumerable.Range(0, reader.FieldCount).OrderBy(reader.GetName, StringComparer.Ordinal).Select(i => reader.GetName(i) + "=" + (reader.GetValue(i) switch
            {
                DBNull => "null",
                bool b => b ? "1" : "0",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                var v => v.ToString(),
            }));
            rows.Add(string.Join("|", columns));
        }

        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    private static async Task<Dictionary<string, long>> CountsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        var tables = await connection.QueryAsync<string>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
        var counts = new Dictionary<string, long>();
        foreach (var table in tables)
        {
            counts[table] = await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM \"{table}\"");
        }

        return counts;
    }
}
