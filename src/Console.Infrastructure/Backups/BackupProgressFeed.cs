using System.Collections.Concurrent;
using System.Collections.Immutable;
using Console.Domain.Backups;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Backups;

/// <summary>
/// One backup as it stands at one moment: never changed after it is published, so a page can keep it, compare it with
/// the next one and render it on its own thread. <see cref="Final"/> is set once the run has ended (or when a finished
/// record changed later, such as a retried upload).
/// </summary>
public sealed record BackupProgress(
    long RecordId,
    string Cluster,
    BackupTrigger Trigger,
    string RequestedBy,
    DateTimeOffset StartedAt,
    BackupPhase Phase,
    string? Member,
    long BytesReceived,
    long? TotalBytes,
    DateTimeOffset At,
    BackupRecord? Final = null)
{
    public bool IsFinished => Phase == BackupPhase.Finished;

    /// <summary>
    /// True when the update came from another console process through the database (<see cref="ProgressRelay"/>): the run
    /// is not this process's, and the relay does not send it back out.
    /// </summary>
    public bool Relayed { get; init; }

    public double? Percent => TotalBytes is > 0 and var total ? Math.Min(100, 100.0 * BytesReceived / total) : null;

    /// <summary>Average speed since the run started, as of <see cref="At"/>.</summary>
    public double BytesPerSecond => (At - StartedAt).TotalSeconds is > 0 and var s ? BytesReceived / s : 0;

    /// <summary>At the average speed so far; unknown until bytes flow and the size is known.</summary>
    public TimeSpan? TimeLeft => Phase == BackupPhase.Streaming && TotalBytes is { } total && BytesPerSecond > 0
        ? TimeSpan.FromSeconds(Math.Max(0, total - BytesReceived) / BytesPerSecond)
        : null;

    /// <summary>A finished record as progress (for records that change after their run, such as a retried upload).</summary>
    public static BackupProgress Of(BackupRecord record, DateTimeOffset at) => new(
        record.Id,
        record.Cluster,
        record.Trigger,
        record.RequestedBy,
        record.StartedAt,
        BackupPhase.Finished,
        record.Member,
        record.SizeBytes ?? 0,
        record.SizeBytes,
        at,
        record);
}

/// <summary>
/// Publishes every backup's progress to whoever listens (open pages, the API, tests, the bench): the runner publishes,
/// subscribers get each update on the publisher's thread and must return quickly. A subscriber that throws is logged
/// and never fails a backup. Disposing the subscription stops the updates.
/// </summary>
public sealed partial class BackupProgressFeed(ILogger<BackupProgressFeed> logger)
{
    private readonly ConcurrentDictionary<string, BackupProgress> _latest = new(StringComparer.Ordinal);
    // Copy-on-write: publishing walks a snapshot while pages subscribe and unsubscribe.
    private ImmutableArray<Subscription> _subscribers = [];

    /// <summary>The latest update per cluster since the console started: the run in flight, or the last one that ended.</summary>
    public BackupProgress? Latest(string cluster) => _latest.GetValueOrDefault(cluster);

    /// <summary>The latest update of every cluster heard of.</summary>
    internal IReadOnlyCollection<BackupProgress> LatestOfEach => [.. _latest.Values];

    public IDisposable Subscribe(Action<BackupProgress> onUpdate)
    {
        ArgumentNullException.ThrowIfNull(onUpdate);
        var subscription = new Subscription(this, onUpdate);
        ImmutableInterlocked.Update(ref _subscribers, (list, s) => list.Add(s), subscription);
        return subscription;
    }

    internal void Publish(BackupProgress progress)
    {
        var late = false;

        // An update of a record that has since been followed by a newer run must not hide that run; nor may an update
        // in flight reopen a run already shown as ended (a relayed update can cross the final one, see ProgressRelay).
        _latest.AddOrUpdate(progress.Cluster, progress, (_, current) =>
        {
            late = current.RecordId == progress.RecordId && current.IsFinished && !progress.IsFinished;
            return current.RecordId > progress.RecordId || late ? current : progress;
        });
        if (!late)
        {
            Notify(progress);
        }
    }

    /// <summary>
    /// Publishes an update of a run this feed has not heard of (neither it nor a newer run of its cluster); false, and
    /// nothing published, otherwise. The relay's reconcile, which must never replace what the runs themselves said.
    /// </summary>
    internal bool PublishIfUnknown(BackupProgress progress)
    {
        var unknown = true;
        _latest.AddOrUpdate(progress.Cluster, progress, (_, current) => (unknown = current.RecordId < progress.RecordId) ? progress : current);
        if (unknown)
        {
            Notify(progress);
        }

        return unknown;
    }

    private void Notify(BackupProgress progress)
    {
        foreach (var subscriber in _subscribers)
        {
            try
            {
                subscriber.OnUpdate(progress);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogSubscriberFailed(logger, progress.Cluster, ex);
            }
        }
    }

    private sealed class Subscription(BackupProgressFeed feed, Action<BackupProgress> onUpdate) : IDisposable
    {
        public Action<BackupProgress> OnUpdate { get; } = onUpdate;

        public void Dispose() => ImmutableInterlocked.Update(ref feed._subscribers, (list, s) => list.Remove(s), this);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A subscriber to the backup progress of {Cluster} failed")]
    private static partial void LogSubscriberFailed(ILogger logger, string cluster, Exception exception);
}
