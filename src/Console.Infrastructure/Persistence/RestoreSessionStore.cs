using System.Globalization;
using Console.Infrastructure.Restore;
using Dapper;

namespace Console.Infrastructure.Persistence;

public sealed class RestoreSessionStore(ConsoleDatabase database)
{
    public async Task<RestoreSession?> ActiveAsync(string cluster, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var json = await connection.QuerySingleOrDefaultAsync<string>("SELECT state FROM restore_sessions WHERE cluster = @cluster AND active = TRUE", new { cluster }).ConfigureAwait(false);
            return json is null ? null : RestoreSession.FromJson(json);
        }
    }

    public async Task<IReadOnlyList<RestoreSession>> AllActiveAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return [.. (await connection.QueryAsync<string>("SELECT state FROM restore_sessions WHERE active = TRUE").ConfigureAwait(false)).Select(RestoreSession.FromJson)];
        }
    }

    public async Task<RestoreSession?> LatestAsync(string cluster, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var json = await connection.QuerySingleOrDefaultAsync<string>("SELECT state FROM restore_sessions WHERE cluster = @cluster ORDER BY id DESC LIMIT 1", new { cluster }).ConfigureAwait(false);
            return json is null ? null : RestoreSession.FromJson(json);
        }
    }

    /// <summary>
    /// Creates a session, or returns null when the cluster has an active one already: the unique index on active
    /// sessions per cluster decides, so two replicas beginning at once get one restore between them.
    /// </summary>
    public async Task<RestoreSession?> TryCreateAsync(RestoreSession session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var id = await connection.ExecuteScalarAsync<long?>(
                "INSERT INTO restore_sessions (cluster, active, state, updated_at) VALUES (@Cluster, TRUE, '{}', @now) ON CONFLICT DO NOTHING RETURNING id",
                new { session.Cluster, now = Text(now) }).ConfigureAwait(false);
            if (id is not { } created)
            {
                return null;
            }

            var made = session with { Id = created };
            await connection.ExecuteAsync("UPDATE restore_sessions SET state = @state WHERE id = @id", new { state = made.ToJson(), id = created }).ConfigureAwait(false);
            return made;
        }
    }

    /// <summary>
    /// Holds the cluster's restore for one wizard action across every replica: on PostgreSQL a session advisory lock
    /// on a connection of its own (released on dispose, or by the database when a crashed holder's connection dies);
    /// SQLite serves one console, whose journal already runs one action at a time.
    /// </summary>
    public async Task<IAsyncDisposable> HoldAsync(string cluster, CancellationToken cancellationToken)
    {
        if (!database.IsPostgres)
        {
            return NotHeld.Instance;
        }

        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync("SELECT pg_advisory_lock(@RestoreLocks, hashtext(@cluster))", new { RestoreLocks, cluster }).ConfigureAwait(false);
            return new Held(connection, cluster);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    // The first key of the two-key advisory locks that hold a cluster's restore (the second is the cluster's hash).
    private const int RestoreLocks = 0x72657374; // "rest"

    private sealed class Held(System.Data.Common.DbConnection connection, string cluster) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(@RestoreLocks, hashtext(@cluster))", new { RestoreLocks, cluster }).ConfigureAwait(false);
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed class NotHeld : IAsyncDisposable
    {
        public static readonly NotHeld Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    public async Task SaveAsync(RestoreSession session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                "UPDATE restore_sessions SET state = @state, active = @active, updated_at = @now WHERE id = @Id",
                new { state = session.ToJson(), active = session.Active, now = Text(now), session.Id }).ConfigureAwait(false);
        }
    }

    public async Task AuditAsync(long sessionId, RestoreAuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                "INSERT INTO restore_audit (session_id, at, who, step, action, outcome, detail) VALUES (@sessionId, @at, @Who, @Step, @Action, @Outcome, @Detail)",
                new { sessionId, at = Text(entry.At), entry.Who, entry.Step, entry.Action, entry.Outcome, entry.Detail }).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<RestoreAuditEntry>> AuditTrailAsync(long sessionId, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<(string At, string Who, string Step, string Action, string Outcome, string Detail)>(
                "SELECT at, who, step, action, outcome, detail FROM restore_audit WHERE session_id = @sessionId ORDER BY id", new { sessionId }).ConfigureAwait(false);
            return [.. rows.Select(r => new RestoreAuditEntry(SqlTime.Parse(r.At), r.Who, r.Step, r.Action, r.Outcome, r.Detail))];
        }
    }

    private static string Text(DateTimeOffset value) => SqlTime.Text(value);
}
