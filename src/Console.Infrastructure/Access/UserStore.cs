using Console.Domain.Access;
using Console.Infrastructure.Persistence;
using Dapper;

namespace Console.Infrastructure.Access;

/// <summary>A local user. <see cref="PasswordHash"/> is the framework's PBKDF2 hash, never the password.</summary>
public sealed record LocalUser(
    long Id,
    string Name,
    Role Role,
    string PasswordHash,
    bool MustChangePassword,
    bool Disabled,
    int FailedSignIns,
    DateTimeOffset? LockedUntil,
    string SecurityStamp,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset? LastSignInAt)
{
    public bool IsLocked(DateTimeOffset now) => LockedUntil is { } until && until > now;

    // The hash is not a password, but it is still nobody's business in a log line.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Id = {Id}, Name = {Name}, Role = {Role}, Disabled = {Disabled}");
        return true;
    }
}

/// <summary>Local users in the console database.</summary>
public sealed class UserStore(ConsoleDatabase database)
{
    private const string Columns =
        "id AS Id, name AS Name, role AS Role, password_hash AS PasswordHash, must_change_password AS MustChangePassword, disabled AS Disabled, " +
        "failed_sign_ins AS FailedSignIns, locked_until AS LockedUntil, security_stamp AS SecurityStamp, created_at AS CreatedAt, created_by AS CreatedBy, last_sign_in_at AS LastSignInAt";

    public async Task<int> CountAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM users").ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<LocalUser>> ListAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<Row>($"SELECT {Columns} FROM users ORDER BY name").ConfigureAwait(false);
            return [.. rows.Select(r => r.ToUser())];
        }
    }

    public Task<LocalUser?> GetAsync(long id, CancellationToken cancellationToken) => SingleAsync("id = @id", new { id }, cancellationToken);

    public Task<LocalUser?> FindAsync(string name, CancellationToken cancellationToken) => SingleAsync("name = @name", new { name }, cancellationToken);

    /// <summary>Adds a user; returns null when the name is taken (names compare without case).</summary>
    public async Task<LocalUser?> InsertAsync(string name, Role role, string passwordHash, bool mustChangePassword, string createdBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var id = await connection.ExecuteScalarAsync<long?>(
                """
                INSERT INTO users (name, role, password_hash, must_change_password, security_stamp, created_at, created_by)
                VALUES (@name, @role, @passwordHash, @mustChangePassword, @stamp, @now, @createdBy)
                ON CONFLICT (name) DO NOTHING
                RETURNING id
                """,
                new { name, role = role.ToString(), passwordHash, mustChangePassword, stamp = NewStamp(), now = SqlTime.Text(now), createdBy }).ConfigureAwait(false);
            return id is null ? null : await GetAsync(id.Value, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A new password; every session signed in with the old one ends (new security stamp).</summary>
    public Task SetPasswordAsync(long id, string passwordHash, bool mustChangePassword, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE users SET password_hash = @passwordHash, must_change_password = @mustChangePassword, failed_sign_ins = 0, locked_until = NULL, security_stamp = @stamp WHERE id = @id",
            new { id, passwordHash, mustChangePassword, stamp = NewStamp() },
            cancellationToken);

    /// <summary>Rehashes with the hasher's current parameters without ending sessions.</summary>
    public Task UpgradeHashAsync(long id, string passwordHash, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE users SET password_hash = @passwordHash WHERE id = @id", new { id, passwordHash }, cancellationToken);

    public Task SetDisabledAsync(long id, bool disabled, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE users SET disabled = @disabled, failed_sign_ins = 0, locked_until = NULL, security_stamp = @stamp WHERE id = @id", new { id, disabled, stamp = NewStamp() }, cancellationToken);

    public Task SetRoleAsync(long id, Role role, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE users SET role = @role, security_stamp = @stamp WHERE id = @id", new { id, role = role.ToString(), stamp = NewStamp() }, cancellationToken);

    /// <summary>
    /// Counts one wrong password in a single statement (so parallel guesses cannot share a count) and locks the account
    /// when the count reaches <paramref name="maxFailures"/>; an account already locked (by a guess that finished first)
    /// stays as it is. Returns the count, and the lock's end when the account is locked.
    /// </summary>
    public async Task<(int Failures, DateTimeOffset? LockedUntil)> RecordFailureAsync(long id, int maxFailures, DateTimeOffset now, DateTimeOffset lockUntil, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var row = await connection.QuerySingleAsync<(long Failures, string? LockedUntil)>(
                """
                UPDATE users SET
                    failed_sign_ins = CASE WHEN locked_until > @now THEN failed_sign_ins WHEN failed_sign_ins + 1 >= @maxFailures THEN 0 ELSE failed_sign_ins + 1 END,
                    locked_until = CASE WHEN locked_until > @now THEN locked_until WHEN failed_sign_ins + 1 >= @maxFailures THEN @lockUntil ELSE locked_until END
                WHERE id = @id
                RETURNING failed_sign_ins, locked_until
                """,
                new { id, maxFailures, now = SqlTime.Text(now), lockUntil = SqlTime.Text(lockUntil) }).ConfigureAwait(false);
            return ((int)row.Failures, row.LockedUntil is null ? null : SqlTime.Parse(row.LockedUntil));
        }
    }

    /// <summary>Ends every session of the user (cookies and open pages check the stamp).</summary>
    public Task RotateStampAsync(long id, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE users SET security_stamp = @stamp WHERE id = @id", new { id, stamp = NewStamp() }, cancellationToken);

    /// <summary>Records a sign-in unless the account was locked meanwhile (by guesses in parallel); false then.</summary>
    public async Task<bool> RecordSuccessAsync(long id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await connection.ExecuteAsync(
                "UPDATE users SET failed_sign_ins = 0, locked_until = NULL, last_sign_in_at = @now WHERE id = @id AND (locked_until IS NULL OR locked_until <= @now)",
                new { id, now = SqlTime.Text(now) }).ConfigureAwait(false) == 1;
        }
    }

    /// <summary>How many enabled admins there are, so the last one cannot lock everybody out.</summary>
    public async Task<int> EnabledAdminsAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM users WHERE disabled = FALSE AND role = @role", new { role = nameof(Role.Admin) }).ConfigureAwait(false);
        }
    }

    private static string NewStamp() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    private async Task<LocalUser?> SingleAsync(string where, object parameters, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var row = await connection.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM users WHERE {where}", parameters).ConfigureAwait(false);
            return row?.ToUser();
        }
    }

    private async Task ExecuteAsync(string sql, object parameters, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(sql, parameters).ConfigureAwait(false);
        }
    }

    private sealed class Row
    {
        public long Id { get; set; }
        public string Name { get; set; } = "";
        public string Role { get; set; } = "";
        public string PasswordHash { get; set; } = "";
        public bool MustChangePassword { get; set; }
        public bool Disabled { get; set; }
        public int FailedSignIns { get; set; }
        public string? LockedUntil { get; set; }
        public string SecurityStamp { get; set; } = "";
        public string CreatedAt { get; set; } = "";
        public string CreatedBy { get; set; } = "";
        public string? LastSignInAt { get; set; }

        public LocalUser ToUser() => new(
            Id,
            Name,
            Enum.Parse<Role>(Role),
            PasswordHash,
            MustChangePassword,
            Disabled,
            FailedSignIns,
            LockedUntil is null ? null : SqlTime.Parse(LockedUntil),
            SecurityStamp,
            SqlTime.Parse(CreatedAt),
            CreatedBy,
            LastSignInAt is null ? null : SqlTime.Parse(LastSignInAt));
    }
}
