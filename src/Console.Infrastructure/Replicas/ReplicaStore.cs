using Console.Infrastructure.Persistence;
using Dapper;

namespace Console.Infrastructure.Replicas;

/// <summary>A replica as the database knows it: alive while <see cref="LastSeen"/> is newer than DeadAfter.</summary>
public sealed record ReplicaInfo(string Name, DateTimeOffset StartedAt, DateTimeOffset LastSeen, string Version, string? Address)
{
    public bool IsAliveAt(DateTimeOffset now, TimeSpan deadAfter) => now - LastSeen < deadAfter;
}

/// <summary>The replicas table: one row per replica name, its heartbeat in last_seen.</summary>
public sealed class ReplicaStore(ConsoleDatabase database)
{
    /// <summary>Says this replica is alive (inserting its row, or taking over the row of its name after a restart).</summary>
    public async Task HeartbeatAsync(ReplicaIdentity replica, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replica);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO replicas (name, started_at, last_seen, version, address) VALUES (@Name, @StartedAt, @LastSeen, @Version, @Address)
                ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, last_seen = excluded.last_seen, version = excluded.version, address = excluded.address
                """,
                new { replica.Name, StartedAt = SqlTime.Text(replica.StartedAt), LastSeen = SqlTime.Text(now), replica.Version, replica.Address }).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<ReplicaInfo>> AllAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<(string Name, string StartedAt, string LastSeen, string Version, string? Address)>(
                "SELECT name, started_at, last_seen, version, address FROM replicas ORDER BY name").ConfigureAwait(false);
            return [.. rows.Select(r => new ReplicaInfo(r.Name, SqlTime.Parse(r.StartedAt), SqlTime.Parse(r.LastSeen), r.Version, r.Address))];
        }
    }

    /// <summary>Forgets replicas not heard from since <paramref name="before"/> (and never <paramref name="keep"/>). Returns how many.</summary>
    public async Task<int> ForgetAsync(DateTimeOffset before, string keep, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await connection.ExecuteAsync("DELETE FROM replicas WHERE last_seen < @before AND name <> @keep", new { before = SqlTime.Text(before), keep }).ConfigureAwait(false);
        }
    }
}
