using Console.Domain.Clusters;

namespace Console.Domain.Backups;

/// <summary>
/// A stretch of history the console can rebuild exactly: the full snapshot <see cref="BaseSnapshot"/> (at revision
/// <see cref="FromRevision"/>, as recorded when it was taken) and unbroken delta segments after it, up to
/// <see cref="ToRevision"/>. Any revision from FromRevision to ToRevision, and any moment from FromTime to ToTime,
/// can be restored.
/// </summary>
public sealed record RecoverableSpan(long FromRevision, long ToRevision, DateTimeOffset FromTime, DateTimeOffset ToTime, string BaseSnapshot);

/// <summary>
/// A place where continuity was lost: revisions after <see cref="AfterRevision"/> up to the next full snapshot
/// (<see cref="ResumedAtRevision"/>, null until one was taken) cannot be rebuilt, with the reason in words
/// (the watcher fell behind a compaction, a segment failed its check, the console was down past a compaction).
/// </summary>
public sealed record ContinuityBreak(long AfterRevision, long? ResumedAtRevision, DateTimeOffset At, string Reason);

/// <summary>
/// What continuous backup can restore for one cluster right now: its unbroken spans (oldest first), the breaks
/// between and after them, and the newest moment known durable (the last flushed segment or, when nothing was written
/// since, the last progress notification that confirmed no newer revision exists).
/// </summary>
public sealed record RecoverableWindow(
    ClusterName Cluster,
    bool Enabled,
    IReadOnlyList<RecoverableSpan> Spans,
    IReadOnlyList<ContinuityBreak> Breaks,
    DateTimeOffset? NewestDurableTime)
{
    public static RecoverableWindow Off(ClusterName cluster) => new(cluster, false, [], [], null);

    /// <summary>The span that ends with the newest durable state, if any.</summary>
    public RecoverableSpan? Current => Spans.Count == 0 ? null : Spans[^1];

    /// <summary>How much would be lost if the cluster were lost now: now minus the newest durable time.</summary>
    public TimeSpan? Rpo(DateTimeOffset now) => NewestDurableTime is { } durable ? now - durable : null;

    public RecoverableSpan? SpanOf(long revision) => Spans.LastOrDefault(s => revision >= s.FromRevision && revision <= s.ToRevision);

    public RecoverableSpan? SpanOf(DateTimeOffset time) => Spans.LastOrDefault(s => time >= s.FromTime && time <= s.ToTime);
}

/// <summary>What a point-in-time restore or export is asked for: a revision, or a moment (the newest revision the
/// console had received by then).</summary>
public sealed record PointInTimeTarget(long? Revision, DateTimeOffset? Time)
{
    public static PointInTimeTarget AtRevision(long revision) => new(revision, null);

    public static PointInTimeTarget AtTime(DateTimeOffset time) => new(null, time);

    public override string ToString() => Revision is { } r ? $"revision {r}" : $"{Time:yyyy-MM-dd HH:mm:ss.fff} UTC";
}
