namespace Console.Domain.Backups;

public enum DeltaEventKind
{
    Put = 0,
    Delete = 1,
}

/// <summary>
/// One change to one key, as etcd's watch reports it: the key's state after the change (for a delete: the key, with
/// <see cref="ModRevision"/> the revision that deleted it and no value). Keys and values are bytes: etcd's are.
/// </summary>
public sealed record DeltaEvent(DeltaEventKind Kind, byte[] Key, byte[] Value, long CreateRevision, long ModRevision, long Version, long Lease)
{
    public string KeyText => System.Text.Encoding.UTF8.GetString(Key);

    /// <summary>Bytes this event takes in a segment, roughly: what counts toward MaxSegmentBytes.</summary>
    public long ApproximateSize => Key.Length + Value.Length + 40;
}

/// <summary>
/// Every event of one source revision (one etcd transaction), and when the console received it: etcd events carry
/// no time, so the receive time is what maps a wall-clock moment to a revision.
/// </summary>
public sealed record DeltaRevision(long Revision, DateTimeOffset ReceivedAt, IReadOnlyList<DeltaEvent> Events);

/// <summary>
/// A run of consecutive source revisions (<see cref="FirstRevision"/>..<see cref="LastRevision"/>, every one present,
/// each with at least one event), and the granted TTL in seconds of every lease its events name (-1 when etcd no
/// longer knew the lease when the segment was flushed).
/// </summary>
public sealed record DeltaSegment(
    Clusters.ClusterName Cluster,
    long FirstRevision,
    long LastRevision,
    IReadOnlyList<DeltaRevision> Revisions,
    IReadOnlyDictionary<long, long> LeaseTtls)
{
    public DateTimeOffset FirstTime => Revisions[0].ReceivedAt;

    public DateTimeOffset LastTime => Revisions[^1].ReceivedAt;

    public int EventCount => Revisions.Sum(r => r.Events.Count);
}
