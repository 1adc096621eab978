using Console.Domain.Clusters;

namespace Console.Domain.Backups;

/// <summary>The member a snapshot is taken from, and why the others were not.</summary>
public sealed record MemberChoice(EtcdMember? Member, Uri? Endpoint, string Note)
{
    public bool Found => Member is not null;
}

public static class MemberSelector
{
    /// <summary>
    /// Picks a member that answers, sees a leader, reports no errors and no alarm, and is not a learner; prefers a
    /// follower (a snapshot costs the serving member I/O, so the leader is left alone) and, among followers, the one
    /// with the highest raft index. A member without quorum still serves a snapshot, so "sees a leader" matters.
    /// </summary>
    public static MemberChoice Choose(
        IReadOnlyList<EtcdMember> members,
        IReadOnlyDictionary<ulong, EtcdMemberStatus> statuses,
        IReadOnlyDictionary<ulong, string> errors,
        IReadOnlyList<EtcdAlarm> alarms,
        Func<EtcdMember, Uri?> endpointOf)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(statuses);
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(alarms);
        ArgumentNullException.ThrowIfNull(endpointOf);

        var skipped = new List<string>();
        var candidates = new List<(EtcdMember Member, EtcdMemberStatus Status, Uri Endpoint)>();
        foreach (var member in members.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            var name = string.IsNullOrEmpty(member.Name) ? member.IdHex : member.Name;
            var reason = (statuses.GetValueOrDefault(member.Id), endpointOf(member)) switch
            {
                (_, null) => "has no client URL",
                (null, _) => $"did not answer ({errors.GetValueOrDefault(member.Id, "no status")})",
                ({ IsLearner: true }, _) => "is a learner",
                ({ Leader: 0 }, _) => "sees no leader",
                ({ Errors.Count: > 0 } s, _) => $"reports errors: {string.Join("; ", s.Errors)}",
                _ when member.IsLearner => "is a learner",
                _ when alarms.Any(a => a.MemberId == member.Id && a.Type != EtcdAlarmType.None) => $"has an active {alarms.First(a => a.MemberId == member.Id).Type} alarm",
                _ => null,
            };

            if (reason is null)
            {
                candidates.Add((member, statuses[member.Id], endpointOf(member)!));
            }
            else
            {
                skipped.Add($"{name} {reason}");
            }
        }

        var followers = candidates.Where(c => c.Status.Leader != c.Member.Id).OrderByDescending(c => c.Status.RaftIndex).ToList();
        var chosen = followers.Count > 0 ? followers[0] : candidates.FirstOrDefault();
        var skippedText = skipped.Count == 0 ? string.Empty : $"; skipped: {string.Join(", ", skipped)}";
        if (chosen.Member is null)
        {
            return new MemberChoice(null, null, $"no member is healthy enough for a snapshot{skippedText}");
        }

        var why = chosen.Status.Leader == chosen.Member.Id
            ? "the leader (no healthy follower)"
            : $"a healthy follower (raft index {chosen.Status.RaftIndex})";
        return new MemberChoice(chosen.Member, chosen.Endpoint, $"{chosen.Member.Name}: {why}{skippedText}");
    }
}
