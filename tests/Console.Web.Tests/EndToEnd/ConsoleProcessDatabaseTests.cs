using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Sandbox;
using Console.Web.Tests.Fixtures;
using Dapper;
using Npgsql;

namespace Console.Web.Tests.EndToEnd;

/// <summary>Console:Database at start-up, as an operator meets it: a real process, a real PostgreSQL 15.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ConsoleProcessDatabaseTests(PostgresServer postgres)
{
    private const string Password = "never-print-this-password";

    [Theory]
    [InlineData("postgres", null, "Console:Database:ConnectionString is required when Console:Database:Provider is postgres")]
    [InlineData("mysql", null, "Console:Database:Provider: 'mysql' is not one of sqlite, postgres.")]
    [InlineData("postgres", "Password=" + Password + ";garbage", "Console:Database:ConnectionString is not a valid PostgreSQL connection string")]
    [InlineData("sqlite", "Host=db;Password=" + Password, "Console:Database:ConnectionString is set but Console:Database:Provider is sqlite")]
    public async Task A_database_setting_that_cannot_work_stops_startup_naming_the_key(string provider, string? connectionString, string expected)
    {
        using var data = new TestDirectory("db-config");
        var environment = Valid(data);
        environment["Console__Database__Provider"] = provider;
        if (connectionString is not null)
        {
            environment["Console__Database__ConnectionString"] = connectionString;
        }

        using var console = ConsoleProcess.Start(environment);

        Assert.Equal(2, await console.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(expected, console.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, console.Error + console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_stops_startup_naming_host_and_port_never_the_password()
    {
        using var data = new TestDirectory("db-unreachable");
        var port = FreePorts.Pick(1)[0];
        var environment = Valid(data);
        environment["Console__Database__Provider"] = "postgres";
        environment["Console__Database__ConnectionString"] = $"Host=127.0.0.1;Port={port};Database=console;Username=console;Password={Password};Timeout=5";

        using var console = ConsoleProcess.Start(environment);

        Assert.Equal(2, await console.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"The PostgreSQL server at 127.0.0.1:{port} (database 'console', user 'console') cannot be reached", console.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, console.Error + console.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", console.Error + console.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data.Path, "console.db")), "nothing is started on SQLite instead");
    }

    [Fact]
    public async Task Refused_credentials_stop_startup_naming_the_server_and_user_never_the_password()
    {
        using var data = new TestDirectory("db-refused");
        var database = new NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync());
        var environment = Valid(data);
        environment["Console__Database__Provider"] = "postgres";
        environment["Console__Database__ConnectionString"] = $"Host=127.0.0.1;Port={database.Port};Database={database.Database};Username=intruder;Password={Password}";

        using var console = ConsoleProcess.Start(environment);

        Assert.Equal(2, await console.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"The PostgreSQL server at 127.0.0.1:{database.Port} (database '{database.Database}', user 'intruder') refused the credentials", console.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, console.Error + console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_database_of_a_newer_console_stops_startup_naming_both_versions_and_is_left_as_it_was()
    {
        using var data = new TestDirectory("db-newer");
        var connectionString = await postgres.CreateDatabaseAsync();
        var newer = ConsoleDatabase.SchemaVersion + 1;
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.ExecuteAsync("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (@newer)", new { newer });
        }

        var environment = Valid(data);
        environment["Console__Database__Provider"] = "postgres";
        environment["Console__Database__ConnectionString"] = connectionString;
        using var console = ConsoleProcess.Start(environment);

        Assert.Equal(2, await console.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"has schema version {newer}, newer than this console knows (version {ConsoleDatabase.SchemaVersion})", console.Error, StringComparison.Ordinal);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'backups'"));
        }
    }

    [Fact]
    public async Task A_console_on_postgres_takes_a_backup_and_lists_it_with_nothing_in_its_data_dir_but_snapshots()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var data = new TestDirectory("db-e2e");
        var connectionString = await postgres.CreateDatabaseAsync();
        var settings = TestTokens.Settings().Concat(TestTokens.Cluster(etcd)).ToDictionary(kv => kv.Key, kv => kv.Value);
        settings["Console:Clusters:0:Backup:Targets:0"] = "local";
        settings["Console:Database:Provider"] = "postgres";
        settings["Console:Database:ConnectionString"] = connectionString;

        // Hangfire's PostgreSQL storage in the same database (its own schema), as an operator with one database would set it.
        settings["Console:Scheduler:Store"] = "postgres";
        settings["Console:Scheduler:ConnectionString"] = connectionString;
        var logs = new LogSink();
        await using (var app = ConsoleApp.Start(settings, dataDir: data.Path, logs: logs))
        {
            using var api = new HttpClient { BaseAddress = app.Address };
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Operator);
            var accepted = await api.PostAsync("/api/clusters/test/backups", null);
            Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
            var id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            var record = await Eventually.ValueAsync(() => api.GetFromJsonAsync<JsonElement>($"/api/backups/{id}"), r => r.GetProperty("status").GetString() != "Running", TimeSpan.FromSeconds(60));
            Assert.Equal("Succeeded", record.GetProperty("status").GetString());

            var listed = await api.GetFromJsonAsync<JsonElement>("/api/backups?cluster=test");
            Assert.Contains(listed.GetProperty("items").EnumerateArray(), r => r.GetProperty("id").GetInt64() == id);
        }

        await using (var connection = new NpgsqlConnection(connectionString))
        {
            Assert.True(await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM backups WHERE status = 'Succeeded'") >= 1);
        }

        Assert.False(File.Exists(Path.Combine(data.Path, "console.db")), "the console's state is in PostgreSQL, not in a SQLite file");
        var database = new NpgsqlConnectionStringBuilder(connectionString);
        Assert.Contains($"The console's state is in 127.0.0.1:{database.Port} (database '{database.Database}', user 'postgres')", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Host=127.0.0.1;Port=", logs.Text, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Valid(TestDirectory data) => new()
    {
        ["Console__DataDir"] = data.Path,
        ["Console__Clusters__0__Name"] = "prod",
        ["Console__Clusters__0__Endpoints__0"] = "http://127.0.0.1:2379",
        ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        ["Console__DataProtection__KeyEncryptionKey"] = TestTokens.KeyEncryptionKey,
    };
}
