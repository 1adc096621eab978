namespace Console.Domain.Access;

public enum AuditOutcome
{
    Succeeded,
    Failed,

    /// <summary>The actor was not allowed; nothing was done.</summary>
    Refused,
}

/// <summary>One mutating action: who, when, what, on which cluster, and how it ended.</summary>
/// <param name="Subject">What the action was about beyond the cluster: a snapshot file, a user, a token name.</param>
public sealed record AuditEntry(
    long Id,
    DateTimeOffset At,
    string Actor,
    string Action,
    string? Cluster,
    string? Subject,
    AuditOutcome Outcome,
    string? Detail,
    string? Address);

/// <summary>Names of audited actions, so the page's filter and the tests use the same words.</summary>
public static class AuditActions
{
    public const string SignIn = "sign-in";
    public const string SignOut = "sign-out";
    public const string PasswordChange = "password.change";
    public const string BackupNow = "backup.start";
    public const string Pause = "backup.pause";
    public const string Resume = "backup.resume";
    public const string SettingsChange = "settings.change";
    public const string Verify = "snapshot.verify";
    public const string Drill = "snapshot.drill";
    public const string Download = "snapshot.download";
    public const string Protect = "snapshot.protect";
    public const string Unprotect = "snapshot.unprotect";
    public const string RebuildHistory = "snapshot.rebuild-history";
    public const string PointInTimeExport = "point-in-time.export";
    public const string RestorePrefix = "restore.";
    public const string UserAdd = "user.add";
    public const string UserDisable = "user.disable";
    public const string UserEnable = "user.enable";
    public const string UserResetPassword = "user.reset-password";
    public const string UserRole = "user.role";
    public const string TokenCreate = "token.create";
    public const string TokenRevoke = "token.revoke";

    /// <summary>One attempt at delivering an alert (by the console; decision record 0035).</summary>
    public const string AlertSend = "alert.send";

    /// <summary>An admin's "Send test" on a channel.</summary>
    public const string AlertTest = "alert.test";
}
