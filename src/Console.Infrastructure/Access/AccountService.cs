using System.Security.Cryptography;
using System.Text;
using Console.Domain.Access;
using Console.Domain.Configuration;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Access;

public enum SignInStatus
{
    Succeeded,
    Failed,
    LockedOut,
    Disabled,
}

public sealed record SignInResult(SignInStatus Status, LocalUser? User, string Message)
{
    public bool Succeeded => Status == SignInStatus.Succeeded;
}

/// <summary>A token made just now: the only moment its text exists outside the caller's hands.</summary>
public sealed record NewApiToken(ApiTokenRecord Record, string Token);

/// <summary>
/// Local accounts and API tokens: sign-in with lockout, password changes, the first admin, and the admin's user and
/// token management. Passwords are kept as the framework's PBKDF2 hashes; tokens as sha256 of 32 random bytes.
/// </summary>
public sealed partial class AccountService(
    UserStore users,
    ApiTokenStore tokens,
    AuditLog audit,
    AccessGuard guard,
    IOptions<ConsoleSettings> settings,
    TimeProvider clock,
    ILogger<AccountService> logger) : IDisposable
{
    public const string FirstAdminName = "admin";
    private const string TokenPrefix = "ebc_";
    private static readonly Actor Unknown = new("(unknown user)", Role.Viewer, ActorKind.User);

    /// <summary>
    /// The one answer to a sign-in that did not succeed: the same for an unknown name, a wrong password and a locked
    /// account, so the form does not tell anyone which names exist. The audit log keeps the real reason.
    /// </summary>
    public const string NotSignedInMessage =
        "The user name or password is wrong, or the account is locked after too many wrong passwords (an administrator can unlock it).";

    private readonly PasswordHasher<LocalUser> _hasher = new();
    private readonly LockoutPolicy _lockout = LockoutPolicy.Default;
    private readonly IReadOnlyList<(byte[] Hash, Actor Actor)> _configTokens = [.. settings.Value.Auth.ApiTokens
        .Select(t => (Convert.FromHexString(t.Sha256!), new Actor(t.Name!, Enum.Parse<Role>(t.Role!, ignoreCase: true), ActorKind.ApiToken)))];

    private readonly SemaphoreSlim _userChanges = new(1, 1);
    private string? _dummyHash;

    public static Actor ActorOf(LocalUser user, string? address = null)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new Actor(user.Name, user.Role, ActorKind.User, user.Id) { Address = address };
    }

    /// <summary>
    /// With no users at all, creates <c>admin</c> with a generated one-time password (which must be changed at the first
    /// sign-in) and returns that password so start-up can print it once. Otherwise returns null.
    /// </summary>
    public async Task<string?> EnsureFirstAdminAsync(CancellationToken cancellationToken)
    {
        if (await users.CountAsync(cancellationToken).ConfigureAwait(false) > 0)
        {
            return null;
        }

        var password = NewOneTimePassword();
        var created = await users.InsertAsync(FirstAdminName, Role.Admin, _hasher.HashPassword(null!, password), mustChangePassword: true, "first-run", clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (created is null)
        {
            return null;
        }

        await audit.RecordAsync(Actor.System("first-run"), AuditActions.UserAdd, null, created.Name, AuditOutcome.Succeeded, "first run: created admin with a one-time password", cancellationToken).ConfigureAwait(false);
        return password;
    }

    /// <summary>
    /// Recovery (<c>Console:Auth:ResetAdminPassword</c>): <c>admin</c>, made again if gone, enabled, Admin, with a new
    /// one-time password that must be changed at the next sign-in. Returns that password for start-up to print once.
    /// </summary>
    public async Task<string> ResetFirstAdminAsync(CancellationToken cancellationToken)
    {
        var password = NewOneTimePassword();
        var hash = _hasher.HashPassword(null!, password);
        var user = await users.FindAsync(FirstAdminName, cancellationToken).ConfigureAwait(false)
            ?? await users.InsertAsync(FirstAdminName, Role.Admin, hash, mustChangePassword: true, "reset-admin", clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        await users.SetPasswordAsync(user!.Id, hash, mustChangePassword: true, cancellationToken).ConfigureAwait(false);
        await users.SetRoleAsync(user.Id, Role.Admin, cancellationToken).ConfigureAwait(false);
        if (user.Disabled)
        {
            await users.SetDisabledAsync(user.Id, false, cancellationToken).ConfigureAwait(false);
        }

        await audit.RecordAsync(Actor.System("reset-admin"), AuditActions.UserResetPassword, null, FirstAdminName, AuditOutcome.Succeeded, "Console:Auth:ResetAdminPassword at start: Admin, enabled, one-time password", cancellationToken).ConfigureAwait(false);
        return password;
    }

    public async Task<SignInResult> SignInAsync(string? name, string? password, string? address, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var user = string.IsNullOrWhiteSpace(name) ? null : await users.FindAsync(name.Trim(), cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            // Spend the same time as for a real user, so timing does not tell which names exist.
            _hasher.VerifyHashedPassword(null!, _dummyHash ??= _hasher.HashPassword(null!, Guid.NewGuid().ToString()), password ?? "");
            await audit.RecordAsync(Unknown with { Address = address }, AuditActions.SignIn, null, null, AuditOutcome.Failed, "unknown user name", cancellationToken).ConfigureAwait(false);
            return new SignInResult(SignInStatus.Failed, null, NotSignedInMessage);
        }

        // The password is checked even for a locked account, so a locked name takes as long to answer as any other.
        var actor = ActorOf(user, address);
        var verdict = _hasher.VerifyHashedPassword(user, user.PasswordHash, password ?? "");
        if (user.IsLocked(now))
        {
            await audit.RecordAsync(actor, AuditActions.SignIn, null, user.Name, AuditOutcome.Refused, $"locked until {user.LockedUntil:u}", cancellationToken).ConfigureAwait(false);
            return new SignInResult(SignInStatus.LockedOut, null, NotSignedInMessage);
        }

        if (verdict == PasswordVerificationResult.Failed)
        {
            var (_, lockedUntil) = await CountFailureAsync(user, actor, AuditActions.SignIn, now, cancellationToken).ConfigureAwait(false);
            return new SignInResult(lockedUntil is null ? SignInStatus.Failed : SignInStatus.LockedOut, null, NotSignedInMessage);
        }

        if (user.Disabled)
        {
            await audit.RecordAsync(actor, AuditActions.SignIn, null, user.Name, AuditOutcome.Refused, "account disabled", cancellationToken).ConfigureAwait(false);
            return new SignInResult(SignInStatus.Disabled, null, "This account is disabled. Ask an administrator.");
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            await users.UpgradeHashAsync(user.Id, _hasher.HashPassword(user, password!), cancellationToken).ConfigureAwait(false);
        }

        if (!await users.RecordSuccessAsync(user.Id, now, cancellationToken).ConfigureAwait(false))
        {
            // Guesses running in parallel locked the account while this one was being checked.
            await audit.RecordAsync(actor, AuditActions.SignIn, null, user.Name, AuditOutcome.Refused, "locked meanwhile", cancellationToken).ConfigureAwait(false);
            return new SignInResult(SignInStatus.LockedOut, null, NotSignedInMessage);
        }

        await audit.RecordAsync(actor, AuditActions.SignIn, null, user.Name, AuditOutcome.Succeeded, user.MustChangePassword ? "must choose a new password" : null, cancellationToken).ConfigureAwait(false);
        return new SignInResult(SignInStatus.Succeeded, user with { FailedSignIns = 0, LockedUntil = null, LastSignInAt = now }, "");
    }

    /// <summary>Signs the user out everywhere: a copied cookie or another open page stops working too.</summary>
    public async Task SignOutAsync(Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is { Kind: ActorKind.User, Id: { } id })
        {
            await users.RotateStampAsync(id, cancellationToken).ConfigureAwait(false);
        }

        await audit.RecordAsync(actor, AuditActions.SignOut, null, actor.Name, AuditOutcome.Succeeded, "every session of the user ended", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One wrong password (at sign-in or as the current password of a change), counted atomically; audited.</summary>
    private async Task<(int Failures, DateTimeOffset? LockedUntil)> CountFailureAsync(LocalUser user, Actor actor, string action, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (failures, lockedUntil) = await users.RecordFailureAsync(user.Id, _lockout.MaxFailures, now, now + _lockout.Duration, cancellationToken).ConfigureAwait(false);
        if (lockedUntil is { } until && until > now)
        {
            LogLockedOut(logger, user.Name, _lockout.MaxFailures, until);
            await audit.RecordAsync(actor, action, null, user.Name, AuditOutcome.Failed, $"wrong password: locked until {until:u} ({_lockout.MaxFailures} in a row)", cancellationToken).ConfigureAwait(false);
            return (failures, until);
        }

        await audit.RecordAsync(actor, action, null, user.Name, AuditOutcome.Failed, $"wrong password ({failures} in a row)", cancellationToken).ConfigureAwait(false);
        return (failures, null);
    }

    /// <summary>The signed-in user's own change. Returns every problem (and changes nothing), or the updated user.</summary>
    public async Task<(IReadOnlyList<string> Errors, LocalUser? User)> ChangePasswordAsync(long userId, string? current, string? password, string? confirmation, string? address, CancellationToken cancellationToken)
    {
        var user = await users.GetAsync(userId, cancellationToken).ConfigureAwait(false);
        if (user is null || user.Disabled)
        {
            return (["this account no longer exists or is disabled"], null);
        }

        var actor = ActorOf(user, address);
        var now = clock.GetUtcNow();
        if (user.IsLocked(now))
        {
            return ([LockedMessage(user.LockedUntil!.Value)], null);
        }

        // A wrong current password counts towards lockout, so a stolen session cannot guess the real password.
        if (_hasher.VerifyHashedPassword(user, user.PasswordHash, current ?? "") == PasswordVerificationResult.Failed)
        {
            var (_, lockedUntil) = await CountFailureAsync(user, actor, AuditActions.PasswordChange, now, cancellationToken).ConfigureAwait(false);
            return ([lockedUntil is { } until ? LockedMessage(until) : "the current password is wrong"], null);
        }

        var errors = new List<string>();

        errors.AddRange(Credentials.PasswordErrors(password, user.Name, confirmation, current));
        if (errors.Count > 0)
        {
            await audit.RecordAsync(actor, AuditActions.PasswordChange, null, user.Name, AuditOutcome.Failed, string.Join("; ", errors.Where(e => !e.Contains("password may not", StringComparison.Ordinal))), cancellationToken).ConfigureAwait(false);
            return (errors, null);
        }

        await users.SetPasswordAsync(user.Id, _hasher.HashPassword(user, password!), mustChangePassword: false, cancellationToken).ConfigureAwait(false);
        await audit.RecordAsync(actor, AuditActions.PasswordChange, null, user.Name, AuditOutcome.Succeeded, null, cancellationToken).ConfigureAwait(false);
        return ([], await users.GetAsync(user.Id, cancellationToken).ConfigureAwait(false));
    }

    public Task<IReadOnlyList<LocalUser>> ListUsersAsync(Actor actor, CancellationToken cancellationToken) =>
        ReadAsync(actor, () => users.ListAsync(cancellationToken), cancellationToken);

    /// <summary>Adds a user with a temporary password they must change at their first sign-in.</summary>
    public Task<IReadOnlyList<string>> AddUserAsync(Actor actor, string? name, Role role, string? password, CancellationToken cancellationToken) =>
        AdminAsync(actor, AuditActions.UserAdd, name, $"role {role}", async () =>
        {
            var errors = new List<string>();
            if (Credentials.UserNameError(name) is { } nameError)
            {
                errors.Add(nameError);
            }

            errors.AddRange(Credentials.PasswordErrors(password, name ?? ""));
            if (errors.Count > 0)
            {
                return errors;
            }

            var created = await users.InsertAsync(name!, role, _hasher.HashPassword(null!, password!), mustChangePassword: true, actor.Label, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            return created is null ? [$"there is already a user named '{name}'"] : [];
        }, cancellationToken);

    public Task<IReadOnlyList<string>> SetDisabledAsync(Actor actor, long userId, bool disabled, CancellationToken cancellationToken) =>
        ChangeUserAsync(actor, userId, disabled ? AuditActions.UserDisable : AuditActions.UserEnable, null, async user =>
        {
            if (disabled && user.Id == actor.Id)
            {
                return ["you cannot disable yourself"];
            }

            if (disabled && user.Role == Role.Admin && !user.Disabled && await users.EnabledAdminsAsync(cancellationToken).ConfigureAwait(false) <= 1)
            {
                return ["this is the last enabled admin; make another admin first"];
            }

            await users.SetDisabledAsync(user.Id, disabled, cancellationToken).ConfigureAwait(false);
            return [];
        }, cancellationToken);

    /// <summary>Sets a temporary password the user must change at the next sign-in; unlocks the account.</summary>
    public Task<IReadOnlyList<string>> ResetPasswordAsync(Actor actor, long userId, string? password, CancellationToken cancellationToken) =>
        ChangeUserAsync(actor, userId, AuditActions.UserResetPassword, "temporary password set; must change at next sign-in", async user =>
        {
            var errors = Credentials.PasswordErrors(password, user.Name);
            if (errors.Count > 0)
            {
                return errors;
            }

            await users.SetPasswordAsync(user.Id, _hasher.HashPassword(user, password!), mustChangePassword: true, cancellationToken).ConfigureAwait(false);
            return [];
        }, cancellationToken);

    public Task<IReadOnlyList<string>> SetRoleAsync(Actor actor, long userId, Role role, CancellationToken cancellationToken) =>
        ChangeUserAsync(actor, userId, AuditActions.UserRole, $"role {role}", async user =>
        {
            if (user.Role == role)
            {
                return [];
            }

            if (user.Role == Role.Admin && !user.Disabled && await users.EnabledAdminsAsync(cancellationToken).ConfigureAwait(false) <= 1)
            {
                return ["this is the last enabled admin; make another admin first"];
            }

            await users.SetRoleAsync(user.Id, role, cancellationToken).ConfigureAwait(false);
            return [];
        }, cancellationToken);

    public Task<IReadOnlyList<ApiTokenRecord>> ListTokensAsync(Actor actor, CancellationToken cancellationToken) =>
        ReadAsync(actor, () => tokens.ListAsync(cancellationToken), cancellationToken);

    /// <summary>Makes a token. Its text is returned once and never stored; only its sha256 is.</summary>
    public async Task<(IReadOnlyList<string> Errors, NewApiToken? Token)> CreateTokenAsync(Actor actor, string? name, Role role, CancellationToken cancellationToken)
    {
        NewApiToken? made = null;
        var errors = await AdminAsync(actor, AuditActions.TokenCreate, name, $"role {role}", async () =>
        {
            if (Credentials.UserNameError(name) is not null)
            {
                return ["a token name is 1-64 lower-case letters, digits, '.', '_' or '-'"];
            }

            if (_configTokens.Any(t => string.Equals(t.Actor.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                return [$"a token named '{name}' is in the configuration file"];
            }

            var text = TokenPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var record = await tokens.InsertAsync(name!, role, Sha256Hex(text), actor.Label, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            if (record is null)
            {
                return [$"there is already a token named '{name}'"];
            }

            made = new NewApiToken(record, text);
            return [];
        }, cancellationToken).ConfigureAwait(false);
        return (errors, made);
    }

    public async Task<IReadOnlyList<string>> RevokeTokenAsync(Actor actor, long tokenId, CancellationToken cancellationToken)
    {
        var token = await tokens.GetAsync(tokenId, cancellationToken).ConfigureAwait(false);
        return await AdminAsync(actor, AuditActions.TokenRevoke, token?.Name ?? $"#{tokenId}", null, async () =>
            token is null ? [$"there is no token {tokenId}"]
            : await tokens.RevokeAsync(tokenId, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false) ? []
            : ["the token was already revoked"], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The actor a bearer token stands for: a live token made in the console, or one from configuration.</summary>
    public async Task<Actor?> AuthenticateTokenAsync(string? presented, string? address, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(presented))
        {
            return null;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented.Trim()));
        if (await tokens.FindLiveAsync(Convert.ToHexStringLower(hash), cancellationToken).ConfigureAwait(false) is { } record)
        {
            await tokens.TouchAsync(record.Id, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            return new Actor(record.Name, record.Role, ActorKind.ApiToken, record.Id) { Address = address };
        }

        Actor? match = null;
        foreach (var (expected, actor) in _configTokens)
        {
            // Compare against every configured token in constant time, so timing says nothing about which came close.
            if (CryptographicOperations.FixedTimeEquals(expected, hash))
            {
                match = actor with { Address = address };
            }
        }

        return match;
    }

    /// <summary>20 characters without look-alikes (no 0/O, 1/l/I), about 117 bits.</summary>
    private static string NewOneTimePassword() => RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 20);

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string LockedMessage(DateTimeOffset until) =>
        $"Too many wrong passwords: this account is locked until {until:yyyy-MM-dd HH:mm:ss} UTC. An administrator can unlock it by setting a new password.";

    private async Task<T> ReadAsync<T>(Actor actor, Func<Task<T>> read, CancellationToken cancellationToken)
    {
        // Reading the user list is an admin's business, but not an action worth a line in the audit log each time.
        await guard.DemandAsync(actor, Role.Admin, "users.read", null, null, cancellationToken).ConfigureAwait(false);
        return await read().ConfigureAwait(false);
    }

    /// <summary>
    /// An admin's change, audited. Changes run one at a time, so two admins demoting each other at once cannot leave
    /// no admin behind.
    /// </summary>
    private Task<IReadOnlyList<string>> AdminAsync(Actor actor, string action, string? subject, string? detail, Func<Task<IReadOnlyList<string>>> body, CancellationToken cancellationToken) =>
        guard.AuditedAsync(
            actor,
            Role.Admin,
            action,
            null,
            subject,
            async () =>
            {
                await _userChanges.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    return await body().ConfigureAwait(false);
                }
                finally
                {
                    _userChanges.Release();
                }
            },
            errors => errors.Count == 0 ? (AuditOutcome.Succeeded, detail) : (AuditOutcome.Failed, string.Join("; ", errors)),
            cancellationToken);

    private async Task<IReadOnlyList<string>> ChangeUserAsync(Actor actor, long userId, string action, string? detail, Func<LocalUser, Task<IReadOnlyList<string>>> change, CancellationToken cancellationToken)
    {
        var subject = (await users.GetAsync(userId, cancellationToken).ConfigureAwait(false))?.Name ?? $"#{userId}";
        return await AdminAsync(actor, action, subject, detail, async () =>
        {
            // Read again under the lock: the checks (last admin, self) must see the state the change applies to.
            var user = await users.GetAsync(userId, cancellationToken).ConfigureAwait(false);
            return user is null ? [$"there is no user {userId}"] : await change(user).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _userChanges.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The user {User} is locked until {Until:u} after {Failures} wrong passwords in a row")]
    private static partial void LogLockedOut(ILogger logger, string user, int failures, DateTimeOffset until);
}
