using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Console.Web.Tests.Fixtures;

/// <summary>One PostgreSQL server shared by the test classes of <see cref="PostgresCollection"/>; each test makes its own database on it.</summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private TestPostgres? _server;

    public TestPostgres Server => _server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _server = await TestPostgres.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A new, empty database with a random name; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"console_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(Server.ConnectionString))
        {
            await connection.ExecuteAsync($"CREATE DATABASE {name}");
        }

        return new NpgsqlConnectionStringBuilder(Server.ConnectionString) { Database = name, Pooling = false }.ToString();
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL server";
}

/// <summary>
/// The console's database for a test, on either provider: SQLite in a temporary directory, or a fresh PostgreSQL
/// database on the shared <see cref="PostgresServer"/>. Migrated, ready for the stores.
/// </summary>
public sealed class TestDatabase : IDisposable
{
    private readonly TestDirectory _data;

    private TestDatabase(TestDirectory data, ConsoleSettings settings)
    {
        _data = data;
        Settings = settings;
        Database = new ConsoleDatabase(Options.Create(settings));
        Database.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    public ConsoleSettings Settings { get; }

    public ConsoleDatabase Database { get; }

    /// <param name="postgres">The server to make the database on, or null for SQLite.</param>
    public static TestDatabase Create(string label, PostgresServer? postgres)
    {
        var data = new TestDirectory(label);
        var database = postgres is null
            ? new DatabaseSettings()
            : new DatabaseSettings { Provider = "postgres", ConnectionString = postgres.CreateDatabaseAsync().GetAwaiter().GetResult() };
        return new TestDatabase(data, new ConsoleSettings { DataDir = data.Path, Database = database });
    }

    public void Dispose() => _data.Dispose();
}
