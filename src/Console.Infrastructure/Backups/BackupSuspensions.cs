using Console.Infrastructure.Persistence;

namespace Console.Infrastructure.Backups;

/// <summary>
/// Whether backups of a cluster are refused because a restore of it is under way: asked of the database (an active
/// restore session whose procedure suspends backups), so every replica refuses alike and a console that restarts
/// mid-restore needs to remember nothing.
/// </summary>
public sealed class BackupSuspensions(RestoreSessionStore sessions)
{
    public async Task<string?> ReasonAsync(string cluster, CancellationToken cancellationToken) =>
        await sessions.ActiveAsync(cluster, cancellationToken).ConfigureAwait(false) is { Procedure.SuspendsBackups: true } session
            ? $"a restore is in progress (started by {session.StartedBy}, at the {session.Step} step)"
            : null;
}
