using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Sealing;

namespace Console.Infrastructure.Continuous;

/// <summary>
/// What continuous backup has captured for each cluster: the recoverable window (from the ledger of segments, full
/// snapshots and breaks), and the segments themselves, read back from the targets.
/// </summary>
public interface IDeltaHistory
{
    Task<RecoverableWindow> WindowAsync(ClusterName cluster, CancellationToken cancellationToken);

    /// <summary>
    /// The segments holding every revision after <paramref name="afterRevision"/> up to at least
    /// <paramref name="throughRevision"/>, in order, each checked against its trailer and opened (sealed segments with
    /// <paramref name="identities"/> or the configured identity files). Throws <see cref="DeltaSegmentException"/>
    /// naming the segment when one is missing, damaged or cannot be opened, and records it so the window ends before it.
    /// </summary>
    IAsyncEnumerable<DeltaSegment> ReadAsync(ClusterName cluster, long afterRevision, long throughRevision, IReadOnlyList<AgeIdentity>? identities, CancellationToken cancellationToken);
}

/// <summary>Builds the state of a cluster at a point in time as a verified etcd snapshot file.</summary>
public interface IPointInTimeBuilder
{
    /// <summary>
    /// Restores the newest full snapshot at or below the target into a throwaway single-member etcd on loopback,
    /// replays the deltas up to exactly the target (one transaction per source revision), snapshots and verifies the
    /// result into <paramref name="outputPath"/> (written atomically). Throws <see cref="PointInTimeException"/>,
    /// phrased for an operator, when the target is outside the window or the history cannot be trusted; nothing is
    /// left at <paramref name="outputPath"/> then.
    /// </summary>
    Task<PointInTimeResult> BuildAsync(ClusterName cluster, PointInTimeTarget target, string outputPath, IReadOnlyList<AgeIdentity>? identities, IProgress<PointInTimeProgress>? progress, CancellationToken cancellationToken);
}

/// <summary>The snapshot a point-in-time build produced, and how it was made.</summary>
public sealed record PointInTimeResult(
    long Revision,
    DateTimeOffset? ReceivedAt,
    long KeyCount,
    string Sha256,
    long SizeBytes,
    string BaseSnapshot,
    long BaseRevision,
    int SegmentsReplayed,
    long RevisionsReplayed,
    TimeSpan Elapsed);

/// <summary>Where a build is: its phase in words ("restoring the base snapshot", "replaying", "verifying") and how far the replay got.</summary>
public sealed record PointInTimeProgress(string Phase, long Revision, long TargetRevision);

public sealed class PointInTimeException(string message, Exception? inner = null) : Exception(message, inner);
