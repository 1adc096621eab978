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

    /// <summary>Creates a session; the unique index refuses a second active one for the same cluster.</summary>
    public async Task<RestoreSession> CreateAsync(RestoreSession session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var id = await connection.ExecuteScalarAsync<long>(
                "INSERT INTO restore_sessions (cluster, active, state, updated_at) VALUES (@Cluster, TRUE, '{}', @now) RETURNING id",
                new { session.Cluster, now = Text(now) }).ConfigureAwait(false);
            var created = session with { Id = id };
            await connection.ExecuteAsync("UPDATE restore_sessions SET state = @state WHERE id = @id", new { state = created.ToJson(), id }).ConfigureAwait(false);
            return created;
        }
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
