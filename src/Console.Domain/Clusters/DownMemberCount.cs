namespace Console.Domain.Clusters;

/// <summary>Which member automatic replacement takes now, after how many failed checks; or why none is taken.</summary>
public sealed record AutoReplaceChoice(string? Member, int ChecksDown, string Reason);

/// <summary>
/// Counts, for one cluster, each member's successive failed status checks (a check that finds it answering starts the
/// count again), and decides which member automatic replacement may replace: a member configured with a control the
/// console runs (never Manual), down for at least <see cref="RecoveryPolicy.ReplaceAfterChecks"/> checks, while the
/// cluster keeps quorum without it. One member at a time: the one down longest.
/// </summary>
public sealed class DownMemberCount
{
    private readonly Dictionary<string, int> _down = new(StringComparer.Ordinal);
    private DateTimeOffset _last = DateTimeOffset.MinValue;

    /// <summary>Successive failed checks of <paramref name="member"/> up to the last observed check.</summary>
    public int ChecksDown(string member) => _down.GetValueOrDefault(member);

    /// <summary>Records one status check; the same check published twice counts once. A cluster no member answers is no check of any member.</summary>
    public void Observe(ClusterHealth health)
    {
        ArgumentNullException.ThrowIfNull(health);
        if (health.CheckedAt <= _last || health.State is ClusterState.Unknown or ClusterState.Unreachable)
        {
            return;
        }

        _last = health.CheckedAt;
        var listed = health.Members.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _down.Keys.Where(k => !listed.Contains(k)).ToList())
        {
            _down.Remove(gone);
        }

        foreach (var member in health.Members)
        {
            _down[member.Name] = member.IsUp ? 0 : _down.GetValueOrDefault(member.Name) + 1;
        }
    }

    /// <summary>Forgets a member's count (after it was replaced, or a replacement of it failed and must not be retried at once).</summary>
    public void Reset(string member) => _down.Remove(member);

    public AutoReplaceChoice Choose(ClusterHealth health, IReadOnlyList<MemberSpec> members, RecoveryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(health);
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(policy);
        if (!policy.AutoReplaceMember)
        {
            return new AutoReplaceChoice(null, 0, "automatic member replacement is off");
        }

        if (health.State is not (ClusterState.Healthy or ClusterState.Degraded) || health.LeaderName is null)
        {
            return new AutoReplaceChoice(null, 0, "the cluster has no leader: a member cannot be replaced without quorum");
        }

        var down = health.Members
            .Where(m => !m.IsUp)
            .Select(m => (Row: m, Spec: members.FirstOrDefault(s => s.Name == m.Name), Checks: ChecksDown(m.Name)))
            .OrderByDescending(d => d.Checks)
            .ThenBy(d => d.Row.Name, StringComparer.Ordinal)
            .ToList();
        if (down.Count == 0)
        {
            return new AutoReplaceChoice(null, 0, "every member answers");
        }

        var quorum = (health.MembersTotal / 2) + 1;
        if (health.MembersUp < quorum)
        {
            return new AutoReplaceChoice(null, 0, $"only {health.MembersUp} of {health.MembersTotal} members answer, {quorum} are needed for quorum: replacing one would lose it");
        }

        foreach (var (row, spec, checks) in down)
        {
            if (spec is null || spec.Control == MemberControl.Manual)
            {
                continue;
            }

            return checks >= policy.ReplaceAfterChecks
                ? new AutoReplaceChoice(row.Name, checks, $"{row.Name} failed {checks} successive checks")
                : new AutoReplaceChoice(null, checks, $"{row.Name} failed {checks} of {policy.ReplaceAfterChecks} checks before it is replaced");
        }

        return new AutoReplaceChoice(null, 0, $"{string.Join(", ", down.Select(d => d.Row.Name))} {(down.Count == 1 ? "is" : "are")} down but not replaceable automatically (controlled by hand or not configured)");
    }
}
