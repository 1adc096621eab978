using Console.Infrastructure.Persistence;
using Dapper;

namespace Console.Infrastructure.Access;

/// <summary>
/// The sign-in rate limit per remote address, counted in the database (table sign_in_attempts) so that it holds across
/// every replica on one database: at most <see cref="Limit"/> sign-in posts per address in the last
/// <see cref="Window"/>. Refused posts are not counted. Rows older than the window are pruned at most once a window.
/// </summary>
public sealed class SignInAttempts(ConsoleDatabase database, TimeProvider clock)
{
    public const int Limit = 20;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    public const string RefusedMessage = "Too many sign-in attempts from this address; wait a minute.";

    private long _nextPruneTicks;

    /// <summary>Counts the attempt and returns true, or returns false (counting nothing) when the address is over the limit.</summary>
    public async Task<bool> TryAdmitAsync(string address, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var since = SqlTime.Text(now - Window);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var due = Interlocked.Read(ref _nextPruneTicks);
            if (now.UtcTicks >= due && Interlocked.CompareExchange(ref _nextPruneTicks, (now + Window).UtcTicks, due) == due)
            {
                await connection.ExecuteAsync("DELETE FROM sign_in_attempts WHERE at <= @since", new { since }).ConfigureAwait(false);
            }

            // One statement: count and insert together. Two replicas admitting the same address in the same instant may
            // let one post more through; a rate limit needs no more than that (decision record 0024).
            var admitted = await connection.ExecuteAsync(
                """
                INSERT INTO sign_in_attempts (address, at)
                SELECT @address, @now
                WHERE (SELECT COUNT(*) FROM sign_in_attempts WHERE address = @address AND at > @since) < @Limit
                """,
                new { address, now = SqlTime.Text(now), since, Limit }).ConfigureAwait(false);
            return admitted == 1;
        }
    }
}
