using Console.Domain.Clusters;

namespace Console.Web.Tests.Domain.Clusters;

public sealed class ClusterHealthTests
{
    private static readonly ClusterName Name = ClusterName.Parse("prod");
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static EtcdMember Member(ulong id, string name, bool learner = false) =>
        new(id, name, [$"http://10.0.0.{id}:2380"], [$"http://10.0.0.{id}:2379"], learner);

    private static EtcdMemberStatus Status(ulong id, ulong leader, long revision = 100, bool learner = false, params string[] errors) =>
        new(id, 9, "3.4.23", 4096, 2048, leader, 50, 2, revision, errors, learner);

    private static readonly EtcdMember[] Three = [Member(1, "m1"), Member(2, "m2"), Member(3, "m3")];

    [Fact]
    public void All_members_answering_with_one_leader_is_healthy_with_roles()
    {
        var statuses = new Dictionary<ulong, EtcdMemberStatus> { [1] = Status(1, 2), [2] = Status(2, 2, 101), [3] = Status(3, 2) };

        var health = ClusterHealth.Compose(Name, Now, Three, statuses, new Dictionary<ulong, string>(), [], 42, []);

        Assert.Equal(ClusterState.Healthy, health.State);
        Assert.Equal("m2", health.LeaderName);
        Assert.Equal((3, 3), (health.MembersUp, health.MembersTotal));
        Assert.Equal(101, health.Revision);
        Assert.Equal(42, health.KeyCount);
        Assert.Equal([MemberRole.Follower, MemberRole.Leader, MemberRole.Follower], health.Members.Select(m => m.Role));
        Assert.Empty(health.Problems);
    }

    [Fact]
    public void A_member_that_does_not_answer_makes_the_cluster_degraded_and_says_why()
    {
        var statuses = new Dictionary<ulong, EtcdMemberStatus> { [1] = Status(1, 1), [2] = Status(2, 1) };
        var errors = new Dictionary<ulong, string> { [3] = "cannot reach 10.0.0.3:2379: connection refused" };

        var health = ClusterHealth.Compose(Name, Now, Three, statuses, errors, [], 42, []);

        Assert.Equal(ClusterState.Degraded, health.State);
        Assert.Equal((2, 3), (health.MembersUp, health.MembersTotal));
        var down = Assert.Single(health.Members, m => !m.IsUp);
        Assert.Equal("m3", down.Name);
        Assert.Contains("connection refused", Assert.Single(down.Errors), StringComparison.Ordinal);
        Assert.Contains(health.Problems, p => p.Contains("member m3 is not answering", StringComparison.Ordinal));
    }

    [Fact]
    public void Members_without_a_leader_mean_lost_quorum()
    {
        var statuses = new Dictionary<ulong, EtcdMemberStatus> { [1] = Status(1, 0) };
        var errors = new Dictionary<ulong, string> { [2] = "down", [3] = "down" };

        var health = ClusterHealth.Compose(Name, Now, Three, statuses, errors, [], null, []);

        Assert.Equal(ClusterState.NoLeader, health.State);
        Assert.Null(health.LeaderName);
        Assert.StartsWith("no member sees a leader", health.Problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public void An_active_alarm_is_named_with_its_member_and_degrades_the_cluster()
    {
        var statuses = new Dictionary<ulong, EtcdMemberStatus> { [1] = Status(1, 1), [2] = Status(2, 1), [3] = Status(3, 1) };

        var health = ClusterHealth.Compose(Name, Now, Three, statuses, new Dictionary<ulong, string>(), [new EtcdAlarm(3, EtcdAlarmType.NoSpace)], 1, []);

        Assert.Equal(ClusterState.Degraded, health.State);
        Assert.StartsWith("NOSPACE on m3", Assert.Single(health.Alarms), StringComparison.Ordinal);
    }

    [Fact]
    public void Learners_and_unstarted_members_are_shown_as_such()
    {
        EtcdMember[] members = [Member(1, "m1"), Member(2, "m2", learner: true), new(3, "", ["http://10.0.0.3:2380"], [], false)];
        var statuses = new Dictionary<ulong, EtcdMemberStatus> { [1] = Status(1, 1), [2] = Status(2, 1, learner: true) };

        var health = ClusterHealth.Compose(Name, Now, members, statuses, new Dictionary<ulong, string>(), [], 1, []);

        Assert.Equal(MemberRole.Learner, health.Members[1].Role);
        Assert.False(health.Members[2].IsUp);
        Assert.Contains("has not started", health.Members[2].Errors[0], StringComparison.Ordinal);
        Assert.Equal(ClusterState.Degraded, health.State);
    }

    [Fact]
    public void Member_errors_reported_by_etcd_degrade_the_cluster()
    {
        var statuses = new Dictionary<ulong, EtcdMemberStatus> { [1] = Status(1, 1, 1, false, "corrupt: hash mismatch") };

        var health = ClusterHealth.Compose(Name, Now, [Member(1, "m1")], statuses, new Dictionary<ulong, string>(), [], 1, []);

        Assert.Equal(ClusterState.Degraded, health.State);
        Assert.Contains(health.Problems, p => p.Contains("hash mismatch", StringComparison.Ordinal));
    }
}
