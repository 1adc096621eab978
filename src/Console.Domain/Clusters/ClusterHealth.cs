namespace Console.Domain.Clusters;

public enum ClusterState
{
    /// <summary>Not polled yet.</summary>
    Unknown,
    /// <summary>A leader, every member answering, no alarms.</summary>
    Healthy,
    /// <summary>A leader, but a member is down, an alarm is active, or a member reports errors.</summary>
    Degraded,
    /// <summary>Members answer but none sees a leader.</summary>
    NoLeader,
    /// <summary>No endpoint answered.</summary>
    Unreachable,
}

public enum MemberRole
{
    Unknown,
    Leader,
    Follower,
    Learner,
}

/// <summary>One row of the members table.</summary>
public sealed record MemberHealth(
    string Name,
    string IdHex,
    IReadOnlyList<string> ClientUrls,
    IReadOnlyList<string> PeerUrls,
    MemberRole Role,
    bool IsUp,
    string? Version,
    long? DbSize,
    ulong? RaftIndex,
    IReadOnlyList<string> Errors);

/// <summary>What the status page shows of one cluster at one moment.</summary>
public sealed record ClusterHealth(
    ClusterName Cluster,
    ClusterState State,
    DateTimeOffset CheckedAt,
    string? LeaderName,
    int MembersUp,
    int MembersTotal,
    IReadOnlyList<string> Alarms,
    string? Version,
    long? DbSize,
    long? Revision,
    long? KeyCount,
    IReadOnlyList<MemberHealth> Members,
    IReadOnlyList<string> Problems)
{
    public static ClusterHealth NotPolled(ClusterName cluster) =>
        new(cluster, ClusterState.Unknown, DateTimeOffset.MinValue, null, 0, 0, [], null, null, null, null, [], []);

    public static ClusterHealth Unreachable(ClusterName cluster, DateTimeOffset now, IReadOnlyList<string> problems) =>
        new(cluster, ClusterState.Unreachable, now, null, 0, 0, [], null, null, null, null, [], problems);

    /// <summary>
    /// Combines a member list with the status each member gave (or the error it gave instead) into the picture an
    /// operator reads: which member leads, how many are up, what is wrong in words.
    /// </summary>
    public static ClusterHealth Compose(
        ClusterName cluster,
        DateTimeOffset now,
        IReadOnlyList<EtcdMember> members,
        IReadOnlyDictionary<ulong, EtcdMemberStatus> statuses,
        IReadOnlyDictionary<ulong, string> memberErrors,
        IReadOnlyList<EtcdAlarm> alarms,
        long? keyCount,
        IReadOnlyList<string> extraProblems)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(statuses);
        ArgumentNullException.ThrowIfNull(memberErrors);
        ArgumentNullException.ThrowIfNull(alarms);
        ArgumentNullException.ThrowIfNull(extraProblems);

        // The leader is the one most answering members agree on (they all agree in a healthy cluster).
        var leaderId = statuses.Values
            .Where(s => s.Leader != 0)
            .GroupBy(s => s.Leader)
            .OrderByDescending(g => g.Count())
            .Select(g => g.Key)
            .FirstOrDefault();

        var names = members.ToDictionary(m => m.Id, DisplayName);
        var rows = members.OrderBy(m => m.HasStarted ? 0 : 1).ThenBy(m => m.Name, StringComparer.Ordinal).Select(m => Row(m, statuses, memberErrors, leaderId)).ToList();
        var problems = new List<string>(extraProblems);
        problems.AddRange(rows.Where(r => !r.IsUp).Select(r => $"member {r.Name} is not answering: {string.Join("; ", r.Errors)}"));
        problems.AddRange(rows.Where(r => r.IsUp && r.Errors.Count > 0).Select(r => $"member {r.Name} reports: {string.Join("; ", r.Errors)}"));

        var alarmTexts = alarms
            .Where(a => a.Type != EtcdAlarmType.None)
            .Select(a => a.Describe(names.GetValueOrDefault(a.MemberId, a.MemberId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture))))
            .ToList();

        var up = rows.Count(r => r.IsUp);
        var state = up == 0 ? ClusterState.Unreachable
            : leaderId == 0 ? ClusterState.NoLeader
            : up < rows.Count || alarmTexts.Count > 0 || rows.Any(r => r.Errors.Count > 0) || problems.Count > 0 ? ClusterState.Degraded
            : ClusterState.Healthy;
        if (state == ClusterState.NoLeader)
        {
            problems.Insert(0, "no member sees a leader: the cluster has lost quorum and cannot accept writes");
        }

        var leaderStatus = statuses.GetValueOrDefault(leaderId);
        var anyStatus = leaderStatus ?? statuses.Values.FirstOrDefault();
        return new ClusterHealth(
            cluster,
            state,
            now,
            leaderId == 0 ? null : names.GetValueOrDefault(leaderId, leaderId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture)),
            up,
            rows.Count,
            alarmTexts,
            anyStatus?.Version,
            anyStatus?.DbSize,
            statuses.Count == 0 ? null : statuses.Values.Max(s => s.Revision),
            keyCount,
            rows,
            problems);
    }

    private static MemberHealth Row(EtcdMember member, IReadOnlyDictionary<ulong, EtcdMemberStatus> statuses, IReadOnlyDictionary<ulong, string> memberErrors, ulong leaderId)
    {
        var name = DisplayName(member);
        if (statuses.TryGetValue(member.Id, out var status))
        {
            var role = member.IsLearner || status.IsLearner ? MemberRole.Learner
                : member.Id == leaderId ? MemberRole.Leader
                : MemberRole.Follower;
            return new MemberHealth(name, member.IdHex, member.ClientUrls, member.PeerUrls, role, true, status.Version, status.DbSize, status.RaftIndex, status.Errors);
        }

        var error = memberErrors.GetValueOrDefault(member.Id)
            ?? (member.HasStarted ? "no status received" : "the member was added but has not started (no client URLs)");
        return new MemberHealth(name, member.IdHex, member.ClientUrls, member.PeerUrls, member.IsLearner ? MemberRole.Learner : MemberRole.Unknown, false, null, null, null, [error]);
    }

    private static string DisplayName(EtcdMember member) => string.IsNullOrEmpty(member.Name) ? $"(unstarted {member.IdHex})" : member.Name;
}
