using Console.Domain.Clusters;

namespace Console.Web.Tests.Domain.Clusters;

public sealed class DownMemberCountTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly RecoveryPolicy On = new(true, false, 3, TimeSpan.FromMinutes(5));
    private static readonly string[] Five = ["m1", "m2", "m3", "m4", "m5"];
    private static readonly MemberSpec[] Managed = [Spec("m1"), Spec("m2"), Spec("m3")];

    private static MemberSpec Spec(string name, MemberControl control = MemberControl.Managed) => new(name, new Uri("http://127.0.0.1:1"), "/tmp/" + name, control);

    private static ClusterHealth Check(int second, params string[] down)
    {
        var names = Five.Take(down.Any(d => d is "m4" or "m5") ? 5 : 3).ToList();
        var rows = names.Select(n => new MemberHealth(n, n, [], [], down.Contains(n) ? MemberRole.Unknown : MemberRole.Follower, !down.Contains(n), null, null, null, [])).ToList();
        var up = rows.Count(r => r.IsUp);
        var state = up == 0 ? ClusterState.Unreachable : up < (rows.Count / 2) + 1 ? ClusterState.NoLeader : down.Length > 0 ? ClusterState.Degraded : ClusterState.Healthy;
        return new ClusterHealth(ClusterName.Parse("c"), state, T0.AddSeconds(second), state is ClusterState.NoLeader or ClusterState.Unreachable ? null : rows.First(r => r.IsUp).Name, up, rows.Count, [], null, null, null, null, rows, []);
    }

    [Fact]
    public void A_member_is_chosen_only_after_the_configured_successive_failed_checks_and_an_answer_starts_the_count_again()
    {
        var count = new DownMemberCount();
        count.Observe(Check(1, "m2"));
        count.Observe(Check(2, "m2"));
        Assert.Null(count.Choose(Check(2, "m2"), Managed, On).Member);
        Assert.Contains("2 of 3 checks", count.Choose(Check(2, "m2"), Managed, On).Reason, StringComparison.Ordinal);

        count.Observe(Check(2, "m2")); // the same check published again counts once
        Assert.Equal(2, count.ChecksDown("m2"));
        count.Observe(Check(3));       // it answered: start again
        count.Observe(Check(4, "m2"));
        count.Observe(Check(5, "m2"));
        Assert.Null(count.Choose(Check(5, "m2"), Managed, On).Member);

        count.Observe(Check(6, "m2"));
        var choice = count.Choose(Check(6, "m2"), Managed, On);
        Assert.Equal("m2", choice.Member);
        Assert.Equal(3, choice.ChecksDown);
    }

    [Fact]
    public void Nothing_is_chosen_without_quorum_when_off_or_for_members_controlled_by_hand()
    {
        var count = new DownMemberCount();
        for (var s = 1; s <= 5; s++)
        {
            count.Observe(Check(s, "m2", "m3"));
        }

        Assert.Null(count.Choose(Check(5, "m2", "m3"), Managed, On).Member);
        Assert.Contains("no leader", count.Choose(Check(5, "m2", "m3"), Managed, On).Reason, StringComparison.Ordinal);
        Assert.Null(count.Choose(Check(5, "m2"), Managed, On with { AutoReplaceMember = false }).Member);

        var manual = new[] { Spec("m1"), Spec("m2", MemberControl.Manual), Spec("m3") };
        count.Observe(Check(6, "m2"));
        count.Observe(Check(7, "m2"));
        count.Observe(Check(8, "m2"));
        var choice = count.Choose(Check(8, "m2"), manual, On);
        Assert.Null(choice.Member);
        Assert.Contains("controlled by hand", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Of_five_with_two_down_the_one_down_longest_is_chosen_and_an_unreachable_cluster_counts_no_check()
    {
        var count = new DownMemberCount();
        var five = new[] { Spec("m1"), Spec("m2"), Spec("m3"), Spec("m4"), Spec("m5") };
        count.Observe(Check(1, "m4"));
        count.Observe(Check(2, "m4", "m5"));
        count.Observe(Check(3, "m4", "m5"));
        count.Observe(ClusterHealth.Unreachable(ClusterName.Parse("c"), T0.AddSeconds(4), ["refused"]));
        Assert.Equal(3, count.ChecksDown("m4"));
        Assert.Equal(2, count.ChecksDown("m5"));
        Assert.Equal("m4", count.Choose(Check(3, "m4", "m5"), five, On).Member);
    }
}
