using System.Text.RegularExpressions;

namespace Console.Domain.Access;

/// <summary>Rules for user names and passwords, shared by the Users page, the password change and first run.</summary>
public static partial class Credentials
{
    public const int MinPasswordLength = 12;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex UserNamePattern();

    /// <summary>Names the console itself uses in records and the audit log.</summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.Ordinal) { "scheduler", "system", "console", "first-run", "reset-admin", "restore" };

    /// <summary>Lower-case letters, digits, '.', '_' and '-', up to 64, starting with a letter or digit.</summary>
    public static string? UserNameError(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "a user name is required"
        : !UserNamePattern().IsMatch(name) ? "a user name is 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        : Reserved.Contains(name) ? $"'{name}' is reserved for the console's own actions"
        : null;

    /// <summary>Every problem with a new password; empty when it is acceptable.</summary>
    public static IReadOnlyList<string> PasswordErrors(string? password, string userName, string? confirmation = null, string? current = null)
    {
        var errors = new List<string>();
        if (string.IsNullOrEmpty(password))
        {
            errors.Add("a password is required");
            return errors;
        }

        if (password.Length < MinPasswordLength)
        {
            errors.Add($"a password needs at least {MinPasswordLength} characters");
        }

        if (password.Length > 256)
        {
            errors.Add("a password may have at most 256 characters");
        }

        if (string.Equals(password, userName, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add("the password may not be the user name");
        }

        if (confirmation is not null && !string.Equals(password, confirmation, StringComparison.Ordinal))
        {
            errors.Add("the two new passwords differ");
        }

        if (current is not null && string.Equals(password, current, StringComparison.Ordinal))
        {
            errors.Add("the new password must differ from the current one");
        }

        return errors;
    }
}

/// <summary>Locks an account after repeated failed sign-ins, for a while.</summary>
public sealed record LockoutPolicy(int MaxFailures, TimeSpan Duration)
{
    public static readonly LockoutPolicy Default = new(5, TimeSpan.FromMinutes(15));
}
