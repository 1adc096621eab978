using Console.Domain.Access;
using Console.Infrastructure.Persistence;
using Dapper;

namespace Console.Infrastructure.Access;

/// <summary>An API token made in the console. Only the sha256 of the token is kept.</summary>
public sealed record ApiTokenRecord(long Id, string Name, Role Role, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public bool Revoked => RevokedAt is not null;
}

public sealed class ApiTokenStore(ConsoleDatabase database)
{
    private const string Columns = "id AS Id, name AS Name, role AS Role, created_at AS CreatedAt, created_by AS CreatedBy, last_used_at AS LastUsedAt, revoked_at AS RevokedAt";

    public async Task<IReadOnlyList<ApiTokenRecord>> ListAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<Row>($"SELECT {Columns} FROM api_tokens ORDER BY revoked_at IS NOT NULL, name").ConfigureAwait(false);
            return [.. rows.Select(r => r.ToRecord())];
        }
    }

    public Task<ApiTokenRecord?> GetAsync(long id, CancellationToken cancellationToken) => SingleAsync("id = @id", new { id }, cancellationToken);

    /// <summary>The live (not revoked) token with this sha256, if any.</summary>
    public Task<ApiTokenRecord?> FindLiveAsync(string sha256Hex, CancellationToken cancellationToken) =>
        SingleAsync("sha256 = @sha256Hex AND revoked_at IS NULL", new { sha256Hex }, cancellationToken);

    /// <summary>Adds a token; returns null when the name is taken.</summary>
    public async Task<ApiTokenRecord?> InsertAsync(string name, Role role, string sha256Hex, string createdBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var id = await connection.ExecuteScalarAsync<long?>(
                """
                INSERT INTO api_tokens (name, role, sha256, created_at, created_by) VALUES (@name, @role, @sha256Hex, @now, @createdBy)
                ON CONFLICT DO NOTHING
                RETURNING id
                """,
                new { name, role = role.ToString(), sha256Hex, now = SqlTime.Text(now), createdBy }).ConfigureAwait(false);
            return id is null ? null : await GetAsync(id.Value, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<bool> RevokeAsync(long id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await connection.ExecuteAsync("UPDATE api_tokens SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL", new { id, now = SqlTime.Text(now) }).ConfigureAwait(false) == 1;
        }
    }

    /// <summary>Notes the token's use; written at most once a minute, so automation polling the API causes no write per call.</summary>
    public async Task TouchAsync(long id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                "UPDATE api_tokens SET last_used_at = @now WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @staleBefore)",
                new { id, now = SqlTime.Text(now), staleBefore = SqlTime.Text(now.AddMinutes(-1)) }).ConfigureAwait(false);
        }
    }

    private async Task<ApiTokenRecord?> SingleAsync(string where, object parameters, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var row = await connection.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM api_tokens WHERE {where}", parameters).ConfigureAwait(false);
            return row?.ToRecord();
        }
    }

    private sealed class Row
    {
        public long Id { get; set; }
        public string Name { get; set; } = "";
        public string Role { get; set; } = "";
        public string CreatedAt { get; set; } = "";
        public string CreatedBy { get; set; } = "";
        public string? LastUsedAt { get; set; }
        public string? RevokedAt { get; set; }

        public ApiTokenRecord ToRecord() => new(
            Id, Name, Enum.Parse<Role>(Role), SqlTime.Parse(CreatedAt), CreatedBy,
            LastUsedAt is null ? null : SqlTime.Parse(LastUsedAt), RevokedAt is null ? null : SqlTime.Parse(RevokedAt));
    }
}
