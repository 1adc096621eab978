using Console.Domain.Access;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Access;

/// <summary>
/// The one place that decides whether an actor may do something, and that writes the audit log for it. Every
/// mutating service call goes through <see cref="AuditedAsync{T}"/>: the actor's role is checked against the user or
/// token as it is stored now (not as a cookie or an open page remembers it), a refusal is audited and thrown before
/// anything changes, and the outcome of an allowed action is audited with it.
/// </summary>
public sealed partial class AccessGuard(UserStore users, ApiTokenStore tokens, AuditLog audit, ILogger<AccessGuard> logger)
{
    /// <summary>Checks the actor; throws <see cref="AccessDeniedException"/> (audited as Refused) when not allowed.</summary>
    public async Task<Actor> DemandAsync(Actor actor, Role required, string action, string? cluster, string? subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var (current, reason) = await CurrentAsync(actor, cancellationToken).ConfigureAwait(false);
        if (current is not null && current.Has(required))
        {
            return current;
        }

        var message = reason ?? $"{actor.Label} has the role {current?.Role}; {action} needs {required}";
        await RecordRefusalAsync(actor, action, cluster, subject, message).ConfigureAwait(false);
        throw new AccessDeniedException(message);
    }

    /// <summary>
    /// Audits (as Refused) and logs a refusal decided before any service was called: an endpoint's or a page's
    /// authorization policy turned the caller away.
    /// </summary>
    public async Task RecordRefusalAsync(Actor actor, string action, string? cluster, string? subject, string reason)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await audit.RecordAsync(actor, action, cluster, subject, AuditOutcome.Refused, reason, CancellationToken.None).ConfigureAwait(false);
        LogRefused(logger, actor.Label, AuditLog.Bounded(action, AuditLog.NameLimit)!, AuditLog.Bounded(reason, AuditLog.DetailLimit)!);
    }

    /// <summary>
    /// Demands <paramref name="required"/>, runs <paramref name="body"/>, and audits how it ended: the outcome
    /// <paramref name="describe"/> gives, or Failed with the exception's message.
    /// </summary>
    public async Task<T> AuditedAsync<T>(
        Actor actor,
        Role required,
        string action,
        string? cluster,
        string? subject,
        Func<Task<T>> body,
        Func<T, (AuditOutcome Outcome, string? Detail)> describe,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(describe);
        var checkedActor = await DemandAsync(actor, required, action, cluster, subject, cancellationToken).ConfigureAwait(false);
        T result;
        try
        {
            result = await body().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await audit.RecordAsync(checkedActor, action, cluster, subject, AuditOutcome.Failed, ex.Message, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var (outcome, detail) = describe(result);
        await audit.RecordAsync(checkedActor, action, cluster, subject, outcome, detail, CancellationToken.None).ConfigureAwait(false);
        return result;
    }

    public Task AuditedAsync(Actor actor, Role required, string action, string? cluster, string? subject, Func<Task> body, string? detail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        return AuditedAsync(
            actor,
            required,
            action,
            cluster,
            subject,
            async () =>
            {
                await body().ConfigureAwait(false);
                return true;
            },
            _ => (AuditOutcome.Succeeded, detail),
            cancellationToken);
    }

    /// <summary>The actor as stored now: a disabled or deleted user and a revoked token are nobody.</summary>
    private async Task<(Actor? Actor, string? Reason)> CurrentAsync(Actor actor, CancellationToken cancellationToken)
    {
        switch (actor.Kind)
        {
            case ActorKind.System:
                return (actor, null);
            case ActorKind.User when actor.Id is { } id:
                var user = await users.GetAsync(id, cancellationToken).ConfigureAwait(false);
                return user is null ? (null, $"the user {actor.Label} no longer exists")
                    : user.Disabled ? (null, $"the user {actor.Label} is disabled")
                    : user.MustChangePassword ? (null, $"{actor.Label} must choose a new password first")
                    : (actor with { Role = user.Role }, null);
            case ActorKind.ApiToken when actor.Id is { } id:
                var token = await tokens.GetAsync(id, cancellationToken).ConfigureAwait(false);
                return token is null || token.Revoked ? (null, $"the API token {actor.Name} has been revoked") : (actor with { Role = token.Role }, null);
            case ActorKind.ApiToken:
                // A token from configuration: its role is fixed for the life of the process.
                return (actor, null);
            default:
                return (null, $"{actor.Label} is not a known user");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Actor}: {Action} ({Reason})")]
    private static partial void LogRefused(ILogger logger, string actor, string action, string reason);
}
