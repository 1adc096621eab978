using Console.Domain.Access;
using Console.Domain.Restore;
using Console.Infrastructure.Access;
using Console.Infrastructure.Persistence;

namespace Console.Infrastructure.Restore;

/// <summary>What an action did: Ok false means nothing changed (wrong step, wrong phrase) or a step failed, in words.</summary>
public sealed record WizardResult(bool Ok, string Message, RestoreSession? Session);

/// <summary>
/// How every wizard action runs: as an Admin (checked against the user as stored now), one at a time, against the
/// persisted session, refused unless the procedure allows it at the session's step; then the resulting session is
/// saved and the outcome audited (in that order, so the log never claims a step the database does not have), and
/// subscribers hear of the change.
/// </summary>
public sealed class RestoreJournal(RestoreSessionStore sessions, AccessGuard guard, AuditLog audit, TimeProvider clock) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public event Action<RestoreSession>? Changed;

    public Task<RestoreSession?> LatestAsync(string cluster, CancellationToken cancellationToken) => sessions.LatestAsync(cluster, cancellationToken);

    public Task<IReadOnlyList<RestoreAuditEntry>> TrailAsync(RestoreSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        return sessions.AuditTrailAsync(session.Id, cancellationToken);
    }

    /// <summary>The new session, or null when another replica began a restore of the cluster first.</summary>
    public Task<RestoreSession?> TryCreateAsync(RestoreSession session, DateTimeOffset now, CancellationToken cancellationToken) => sessions.TryCreateAsync(session, now, cancellationToken);

    public Task<RestoreSession?> ActiveAsync(string cluster, CancellationToken cancellationToken) => sessions.ActiveAsync(cluster, cancellationToken);

    /// <summary>Saves mid-action, where a crash must not forget what was already done (a member's data replaced).</summary>
    public Task SaveAsync(RestoreSession session, CancellationToken cancellationToken) => sessions.SaveAsync(session, clock.GetUtcNow(), cancellationToken);

    /// <param name="action">Checked against the session's step; null for actions that need no session (begin) or only record.</param>
    /// <param name="words">The action in the restore's own trail (e.g. "mark m1 done").</param>
    public async Task<WizardResult> RunAsync(string cluster, Actor who, RestoreAction? action, string words, Func<RestoreSession?, DateTimeOffset, Task<WizardResult>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var auditAction = AuditActions.RestorePrefix + (action is { } a ? RestoreWords.Of(a) : words).Replace(' ', '-');
        await guard.DemandAsync(who, Role.Admin, auditAction, cluster, null, CancellationToken.None).ConfigureAwait(false);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            // One action at a time per cluster across replicas too; the session is read only once it is held.
            var held = await sessions.HoldAsync(cluster, CancellationToken.None).ConfigureAwait(false);
            await using (held.ConfigureAwait(false))
            {
                return await RunHeldAsync(cluster, who, action, words, auditAction, body).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<WizardResult> RunHeldAsync(string cluster, Actor who, RestoreAction? action, string words, string auditAction, Func<RestoreSession?, DateTimeOffset, Task<WizardResult>> body)
    {
        var now = clock.GetUtcNow();
        var session = await sessions.ActiveAsync(cluster, CancellationToken.None).ConfigureAwait(false);
        if (action is { } checkedAction && (session is null ? $"there is no restore of '{cluster}' in progress" : session.Procedure.WhyNot(checkedAction)) is { } why)
        {
            await audit.RecordAsync(who, auditAction, cluster, session?.SnapshotFile, AuditOutcome.Failed, why, CancellationToken.None).ConfigureAwait(false);
            return new WizardResult(false, why, session);
        }

        WizardResult result;
        try
        {
            result = await body(session, now).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await audit.RecordAsync(who, auditAction, cluster, session?.SnapshotFile, AuditOutcome.Failed, ex.Message, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var saved = result.Session ?? session;
        if (result.Session is { Id: not 0 })
        {
            await sessions.SaveAsync(result.Session, clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        }

        await audit.RecordAsync(who, auditAction, cluster, saved?.SnapshotFile, result.Ok ? AuditOutcome.Succeeded : AuditOutcome.Failed, result.Message, CancellationToken.None).ConfigureAwait(false);
        if (saved is { Id: not 0 })
        {
            var entry = new RestoreAuditEntry(now, who.Label, (session?.Step ?? RestoreStep.Choose).ToString(), words, result.Ok ? "ok" : "refused or failed", result.Message);
            await sessions.AuditAsync(saved.Id, entry, CancellationToken.None).ConfigureAwait(false);
            Changed?.Invoke(saved);
        }

        return result with { Session = saved };
    }

    public void Dispose() => _gate.Dispose();
}
