using Console.Domain.Backups;
using Console.Domain.Clusters;

namespace Console.Web.Tests.Domain.Backups;

public sealed class MemberSelectorTests
{
    private static EtcdMember Member(ulong id, bool learner = false) => new(id, $"m{id}", [$"http://10.0.0.{id}:2380"], [$"http://10.0.0.{id}:2379"], learner);

    private static EtcdMemberStatus Status(ulong id, ulong leader, ulong raftIndex = 10, bool learner = false, params string[] errors) =>
        new(id, 1, "3.4.23", 1, 1, leader, raftIndex, 2, 5, errors, learner);

    private static MemberChoice Choose(EtcdMember[] members, Dictionary<ulong, EtcdMemberStatus> statuses, EtcdAlarm[]? alarms = null, Dictionary<ulong, string>? errors = null) =>
        MemberSelector.Choose(members, statuses, errors ?? [], alarms ?? [], m => new Uri(m.ClientUrls[0]));

    [Fact]
    public void Prefers_the_follower_with_the_highest_raft_index()
    {
        var choice = Choose([Member(1), Member(2), Member(3)], new() { [1] = Status(1, 1, 50), [2] = Status(2, 1, 48), [3] = Status(3, 1, 49) });

        Assert.Equal("m3", choice.Member!.Name);
        Assert.Equal(new Uri("http://10.0.0.3:2379"), choice.Endpoint);
        Assert.StartsWith("m3: a healthy follower", choice.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Falls_back_to_the_leader_when_no_follower_is_healthy()
    {
        var choice = Choose([Member(1), Member(2)], new() { [1] = Status(1, 1) }, errors: new() { [2] = "connection refused" });

        Assert.Equal("m1", choice.Member!.Name);
        Assert.Contains("the leader (no healthy follower)", choice.Note, StringComparison.Ordinal);
        Assert.Contains("m2 did not answer (connection refused)", choice.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Skips_learners_members_without_a_leader_with_errors_or_with_an_alarm_and_says_why()
    {
        EtcdMember[] members = [Member(1), Member(2, learner: true), Member(3), Member(4), Member(5)];
        var statuses = new Dictionary<ulong, EtcdMemberStatus>
        {
            [1] = Status(1, 1),
            [2] = Status(2, 1, learner: true),
            [3] = Status(3, 0),
            [4] = Status(4, 1, 10, false, "slow disk"),
            [5] = Status(5, 1),
        };

        var choice = Choose(members, statuses, [new EtcdAlarm(5, EtcdAlarmType.NoSpace)]);

        Assert.Equal("m1", choice.Member!.Name);
        Assert.Contains("m2 is a learner", choice.Note, StringComparison.Ordinal);
        Assert.Contains("m3 sees no leader", choice.Note, StringComparison.Ordinal);
        Assert.Contains("m4 reports errors: slow disk", choice.Note, StringComparison.Ordinal);
        Assert.Contains("m5 has an active NoSpace alarm", choice.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void No_healthy_member_is_no_choice_with_every_reason()
    {
        var choice = Choose([Member(1), Member(2)], new() { [1] = Status(1, 0) }, errors: new() { [2] = "deadline exceeded" });

        Assert.False(choice.Found);
        Assert.Contains("no member is healthy enough", choice.Note, StringComparison.Ordinal);
        Assert.Contains("m1 sees no leader", choice.Note, StringComparison.Ordinal);
        Assert.Contains("m2 did not answer (deadline exceeded)", choice.Note, StringComparison.Ordinal);
    }
}
