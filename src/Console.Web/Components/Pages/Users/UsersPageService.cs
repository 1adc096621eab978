using Console.Domain.Access;
using Console.Infrastructure.Access;

namespace Console.Web.Components.Pages.Users;

/// <summary>What the page shows: every user and token, and the time their ages are counted from.</summary>
public sealed record UsersPageState(IReadOnlyList<LocalUser> Users, IReadOnlyList<ApiTokenRecord> Tokens, DateTimeOffset Now)
{
    public static readonly UsersPageState Empty = new([], [], DateTimeOffset.MinValue);
}

/// <summary>The outcome of one change: the problems that stopped it, or what to tell the admin it did.</summary>
public sealed record UserChange(IReadOnlyList<string> Errors, string Done)
{
    public bool Succeeded => Errors.Count == 0;
}

/// <summary>
/// The Users and tokens page's one service: reads users and tokens and makes the admin's changes through
/// <see cref="AccountService"/>, which checks the role, audits, and refuses what would lock everyone out.
/// </summary>
internal sealed class UsersPageService(AccountService accounts, TimeProvider clock)
{
    public async Task<UsersPageState> LoadAsync(Actor me, CancellationToken cancellationToken) =>
        new(await accounts.ListUsersAsync(me, cancellationToken), await accounts.ListTokensAsync(me, cancellationToken), clock.GetUtcNow());

    public async Task<UserChange> AddUserAsync(Actor me, string? name, Role role, string? password, CancellationToken cancellationToken) =>
        new(await accounts.AddUserAsync(me, name?.Trim(), role, password, cancellationToken), $"Added {name?.Trim()} ({role})");

    public async Task<UserChange> SetRoleAsync(Actor me, LocalUser user, Role role, CancellationToken cancellationToken) =>
        new(await accounts.SetRoleAsync(me, user.Id, role, cancellationToken), $"{user.Name} is now {role}");

    public async Task<UserChange> SetDisabledAsync(Actor me, LocalUser user, bool disabled, CancellationToken cancellationToken) =>
        new(await accounts.SetDisabledAsync(me, user.Id, disabled, cancellationToken), $"{user.Name} is {(disabled ? "disabled" : "enabled")}");

    public async Task<UserChange> ResetPasswordAsync(Actor me, LocalUser user, string? password, CancellationToken cancellationToken) =>
        new(await accounts.ResetPasswordAsync(me, user.Id, password, cancellationToken), $"{user.Name} has a temporary password and must choose a new one at the next sign-in");

    public async Task<UserChange> RevokeTokenAsync(Actor me, ApiTokenRecord token, CancellationToken cancellationToken) =>
        new(await accounts.RevokeTokenAsync(me, token.Id, cancellationToken), $"Token {token.Name} revoked");

    /// <summary>The token's text comes back once, here; only its hash is kept.</summary>
    public async Task<(UserChange Change, NewApiToken? Token)> MakeTokenAsync(Actor me, string? name, Role role, CancellationToken cancellationToken)
    {
        var (errors, token) = await accounts.CreateTokenAsync(me, name?.Trim(), role, cancellationToken);
        return (new UserChange(errors, $"Token {name?.Trim()} made"), token);
    }
}
