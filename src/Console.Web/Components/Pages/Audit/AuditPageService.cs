using Console.Domain.Access;
using Console.Infrastructure.Access;
using Console.Infrastructure.Clusters;
using AuditEntries = Console.Infrastructure.Access.AuditPage;

namespace Console.Web.Components.Pages.Audit;

/// <summary>What the operator narrowed the log to; times are UTC as typed.</summary>
public sealed record AuditFilter(string? Actor = null, string? Action = null, string? Cluster = null, AuditOutcome? Outcome = null, DateTime? From = null, DateTime? To = null)
{
    public AuditQuery ToQuery(int skip, int take) => new(
        string.IsNullOrWhiteSpace(Actor) ? null : Actor.Trim(),
        Action,
        Cluster,
        Outcome,
        From is { } from ? new DateTimeOffset(DateTime.SpecifyKind(from, DateTimeKind.Utc)) : null,
        To is { } to ? new DateTimeOffset(DateTime.SpecifyKind(to, DateTimeKind.Utc)) : null,
        skip,
        take);
}

/// <summary>The Audit log page's one service: pages of the log, the words to filter by, and word when it grows.</summary>
internal sealed class AuditPageService(AuditLog log, ClusterCatalog catalog)
{
    public IReadOnlyList<string> Clusters => [.. catalog.All.Select(c => c.Name.Value)];

    public Task<IReadOnlyList<string>> ActionsAsync(CancellationToken cancellationToken) => log.ActionsAsync(cancellationToken);

    public Task<AuditEntries> PageAsync(AuditFilter filter, int skip, int take, CancellationToken cancellationToken) =>
        log.QueryAsync(filter.ToQuery(skip, take), cancellationToken);

    /// <summary>Calls <paramref name="onChange"/> after each new entry, until disposed.</summary>
    public IDisposable Subscribe(Action onChange)
    {
        log.Changed += onChange;
        return new Subscription(() => log.Changed -= onChange);
    }

    private sealed class Subscription(Action unsubscribe) : IDisposable
    {
        private Action? _unsubscribe = unsubscribe;

        public void Dispose() => Interlocked.Exchange(ref _unsubscribe, null)?.Invoke();
    }
}
