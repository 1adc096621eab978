using Console.Domain.Clusters;
using Console.Domain.Restore;

namespace Console.Web.Tests.Domain.Restore;

public sealed class RestorePlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 7, 40, 5, TimeSpan.Zero);
    private static readonly RestoreTool Etcdctl3423 = new("etcdctl", new Version(3, 4, 23));
    private static readonly RestoreTool Etcdutl3512 = new("etcdutl", new Version(3, 5, 12));

    private static MemberSpec[] Members(int count) =>
        [.. Enumerable.Range(1, count).Select(i => new MemberSpec($"m{i}", new Uri($"https://10.0.0.{i}:2380"), $"/var/lib/etcd-{i}", MemberControl.Command))];

    private static RestorePlan Plan(int members, RestoreTool tool) =>
        RestorePlanner.Plan(ClusterName.Parse("prod"), Members(members), "/data/snapshots/prod_20261121T060000.000Z.db", tool, Now, "prod-restore-abc");

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void Every_member_is_restored_from_the_same_file_with_the_same_new_token_and_the_full_initial_cluster(int count)
    {
        var plan = Plan(count, Etcdctl3423);

        Assert.Equal(count, plan.Members.Count);
        var initialCluster = string.Join(',', Enumerable.Range(1, count).Select(i => $"m{i}=https://10.0.0.{i}:2380"));
        Assert.Equal(initialCluster, plan.InitialCluster);
        for (var i = 1; i <= count; i++)
        {
            var member = plan.Members[i - 1];
            Assert.Equal(
                $"ETCDCTL_API=3 etcdctl snapshot restore /data/snapshots/prod_20261121T060000.000Z.db --name m{i} --initial-cluster {initialCluster} " +
                $"--initial-cluster-token prod-restore-abc --initial-advertise-peer-urls https://10.0.0.{i}:2380 --data-dir /var/lib/etcd-{i}.restore-20261121T074005Z",
                member.RestoreCommand);
            Assert.Equal(
                [$"mv /var/lib/etcd-{i} /var/lib/etcd-{i}.pre-restore-20261121T074005Z", $"mv /var/lib/etcd-{i}.restore-20261121T074005Z /var/lib/etcd-{i}"],
                member.SwapCommands);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void A_tool_that_supports_it_bumps_revisions_and_marks_them_compacted(int count)
    {
        var plan = Plan(count, Etcdutl3512);

        Assert.Equal(RestoreTool.DefaultBump, plan.BumpRevision);
        Assert.All(plan.Members, m =>
        {
            Assert.StartsWith("etcdutl snapshot restore ", m.RestoreCommand, StringComparison.Ordinal);
            Assert.EndsWith("--bump-revision 1000000000 --mark-compacted", m.RestoreCommand, StringComparison.Ordinal);
        });
        Assert.Contains("bumped by 1,000,000,000", plan.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_bump_support_the_plan_says_so_and_adds_no_flags()
    {
        var plan = Plan(3, Etcdctl3423);

        Assert.Null(plan.BumpRevision);
        Assert.All(plan.Members, m => Assert.DoesNotContain("--bump-revision", m.RestoreCommand, StringComparison.Ordinal));
        Assert.Contains("cannot bump revisions (needs 3.4.27+ or 3.5.10+)", plan.Note, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3, 4, 26, false)]
    [InlineData(3, 4, 27, true)]
    [InlineData(3, 5, 9, false)]
    [InlineData(3, 5, 10, true)]
    [InlineData(3, 6, 0, true)]
    public void Revision_bump_support_follows_the_etcd_release_that_added_it(int major, int minor, int patch, bool supported) =>
        Assert.Equal(supported, new RestoreTool("etcdutl", new Version(major, minor, patch)).SupportsRevisionBump);

    [Fact]
    public void Paths_with_spaces_or_quotes_are_quoted_for_the_shell()
    {
        MemberSpec[] members = [new("m1", new Uri("http://10.0.0.1:2380"), "/srv/etcd data/o'brien", MemberControl.Manual)];

        var plan = RestorePlanner.Plan(ClusterName.Parse("prod"), members, "/tmp/my snapshot.db", Etcdctl3423, Now, "t");

        Assert.Contains("snapshot restore '/tmp/my snapshot.db'", plan.Members[0].RestoreCommand, StringComparison.Ordinal);
        Assert.Contains("--data-dir '/srv/etcd data/o'\\''brien.restore-20261121T074005Z'", plan.Members[0].RestoreCommand, StringComparison.Ordinal);
    }

    [Fact]
    public void Members_without_a_peer_url_or_data_dir_cannot_be_planned()
    {
        var error = Assert.Throws<ArgumentException>(() => RestorePlanner.Plan(
            ClusterName.Parse("prod"), [new MemberSpec("m1", null, null, MemberControl.Manual)], "/s.db", Etcdctl3423, Now, "t"));

        Assert.Contains("m1 need a PeerUrl and a DataDir", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("etcdctl version: 3.4.23\nAPI version: 3.4", 3, 4, 23)]
    [InlineData("etcdutl version: 3.5.12\nAPI version: 3.5", 3, 5, 12)]
    public void The_tool_version_is_read_from_its_own_output(string output, int major, int minor, int patch) =>
        Assert.Equal(new Version(major, minor, patch), RestoreTool.Parse("etcdctl", output)!.Version);

    [Theory]
    [InlineData("prod", "prod", true)]
    [InlineData("prod", "Prod", false)]
    [InlineData("prod", "prod ", false)]
    [InlineData("restore prod", "restore prod", true)]
    [InlineData("restore prod", "restore", false)]
    [InlineData("restore prod", null, false)]
    public void Confirmations_must_match_exactly(string expected, string? typed, bool matches) =>
        Assert.Equal(matches, RestorePhrases.Matches(expected, typed));

    [Fact]
    public void The_phrases_name_the_cluster()
    {
        Assert.Equal("prod", RestorePhrases.StopMembers("prod"));
        Assert.Equal("restore prod", RestorePhrases.RestoreData("prod"));
        Assert.StartsWith("prod-restore-", RestorePlanner.NewToken(ClusterName.Parse("prod"), Guid.NewGuid()), StringComparison.Ordinal);
    }

    [Fact]
    public void Command_templates_fill_each_placeholder_once_with_shell_quoted_values()
    {
        MemberSpec[] members = [new("a{dataDir}", new Uri("http://10.0.0.1:2380"), "/srv/x; touch /tmp/pwned #", MemberControl.Command)];
        var plan = RestorePlanner.Plan(ClusterName.Parse("prod"), members, "/s.db", Etcdctl3423, Now, "t");

        var filled = CommandTemplate.Fill("ssh root@h systemctl stop etcd@{name} && ls {dataDir} {unknown}", plan, plan.Members[0]);

        Assert.Equal("ssh root@h systemctl stop etcd@'a{dataDir}' && ls '/srv/x; touch /tmp/pwned #' {unknown}", filled);
    }
}
