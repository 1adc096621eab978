using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Console.Web.Tests.Infrastructure.Persistence;

/// <summary>The two migration lists, and what start-up does with a schema it does not know.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ConsoleDatabaseTests(PostgresServer postgres)
{
    [Fact]
    public async Task Both_providers_make_the_same_tables_columns_and_indexes()
    {
        using var sqlite = TestDatabase.Create("schema", null);
        using var pg = TestDatabase.Create("schema", postgres);

        List<string> sqliteSchema, postgresSchema;
        await using (var connection = await sqlite.Database.OpenAsync(CancellationToken.None))
        {
            sqliteSchema = [.. await connection.QueryAsync<string>(
                """
                SELECT m.name || '.' || c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c WHERE m.type = 'table' AND m.name <> 'sqlite_sequence'
                UNION ALL SELECT 'index ' || name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'
                """)];
        }

        await using (var connection = await pg.Database.OpenAsync(CancellationToken.None))
        {
            postgresSchema = [.. await connection.QueryAsync<string>(
                """
                SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public'
                UNION ALL SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'
                """)];
        }

        Assert.Equal(sqliteSchema.Order(StringComparer.Ordinal), postgresSchema.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Two_consoles_starting_together_on_one_empty_database_migrate_it_once()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        using var data = new TestDirectory("concurrent-migration");
        var settings = Options.Create(new ConsoleSettings { DataDir = data.Path, Database = new DatabaseSettings { Provider = "postgres", ConnectionString = connectionString } });

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => new ConsoleDatabase(settings).MigrateAsync(CancellationToken.None))));

        await using var connection = new NpgsqlConnection(connectionString);
        Assert.Equal(Enumerable.Range(1, ConsoleDatabase.SchemaVersion), await connection.QueryAsync<int>("SELECT version FROM schema_version ORDER BY version"));
    }

    [Fact]
    public async Task A_sqlite_file_of_a_newer_console_is_refused_naming_both_versions()
    {
        using var data = new TestDirectory("newer-sqlite");
        var settings = Options.Create(new ConsoleSettings { DataDir = data.Path });
        await new ConsoleDatabase(settings).MigrateAsync(CancellationToken.None);
        await using (var connection = await new ConsoleDatabase(settings).OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync("INSERT INTO schema_version (version) VALUES (@v)", new { v = ConsoleDatabase.SchemaVersion + 5 });
        }

        var refused = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => new ConsoleDatabase(settings).CheckAsync(CancellationToken.None));

        Assert.Contains($"schema version {ConsoleDatabase.SchemaVersion + 5}, newer than this console knows (version {ConsoleDatabase.SchemaVersion})", refused.Message, StringComparison.Ordinal);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}
