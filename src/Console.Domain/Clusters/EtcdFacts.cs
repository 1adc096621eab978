namespace Console.Domain.Clusters;

// What etcd tells us, as plain values. The Infrastructure client maps protobuf messages into these.

/// <summary>One entry of Cluster.MemberList.</summary>
public sealed record EtcdMember(ulong Id, string Name, IReadOnlyList<string> PeerUrls, IReadOnlyList<string> ClientUrls, bool IsLearner)
{
    /// <summary>A member that was added but has never started has no name and no client URLs yet.</summary>
    public bool HasStarted => ClientUrls.Count > 0;

    public string IdHex => Id.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Maintenance.Status of one member.</summary>
public sealed record EtcdMemberStatus(
    ulong MemberId,
    ulong ClusterId,
    string Version,
    long DbSize,
    long DbSizeInUse,
    ulong Leader,
    ulong RaftIndex,
    ulong RaftTerm,
    long Revision,
    IReadOnlyList<string> Errors,
    bool IsLearner);

public enum EtcdAlarmType
{
    None = 0,
    NoSpace = 1,
    Corrupt = 2,
}

/// <summary>An active alarm (Maintenance.Alarm GET).</summary>
public sealed record EtcdAlarm(ulong MemberId, EtcdAlarmType Type)
{
    public string Describe(string memberName) => Type switch
    {
        EtcdAlarmType.NoSpace => $"NOSPACE on {memberName}: the database quota is exhausted; the cluster accepts only reads and deletes until it is compacted, defragmented and the alarm disarmed",
        EtcdAlarmType.Corrupt => $"CORRUPT on {memberName}: the member's data disagrees with the others; take it out of service",
        _ => $"{Type} on {memberName}",
    };
}
