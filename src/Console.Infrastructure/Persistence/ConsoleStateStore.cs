using Dapper;

namespace Console.Infrastructure.Persistence;

/// <summary>Small named facts the console keeps about itself across restarts.</summary>
public sealed class ConsoleStateStore(ConsoleDatabase database)
{
    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await connection.ExecuteScalarAsync<string?>("SELECT value FROM console_state WHERE key = @key", new { key }).ConfigureAwait(false);
        }
    }

    public async Task SetAsync(string key, string? value, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                value is null
                    ? "DELETE FROM console_state WHERE key = @key"
                    : "INSERT INTO console_state (key, value, updated_at) VALUES (@key, @value, @now) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                new { key, value, now = SqlTime.Text(now) }).ConfigureAwait(false);
        }
    }
}
