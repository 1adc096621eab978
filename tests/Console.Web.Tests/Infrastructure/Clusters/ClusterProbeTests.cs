using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.Options;

namespace Console.Web.Tests.Infrastructure.Clusters;

public sealed class ClusterProbeTests
{
    private static ClusterProbe Probe(out EtcdClusterClientFactory factory)
    {
        factory = new EtcdClusterClientFactory(Options.Create(new ConsoleSettings { Etcd = new() { CallTimeout = TimeSpan.FromSeconds(2) } }));
        return new ClusterProbe(factory, TimeProvider.System);
    }

    [Fact]
    public async Task Three_member_cluster_shows_one_leader_two_followers_and_the_key_count()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(size: 3);
        etcd.Etcdctl("put", "/probe/a", "1");
        etcd.Etcdctl("put", "/probe/b", "2");
        var probe = Probe(out var factory);
        using var _ = factory;

        var health = await probe.ProbeAsync(etcd.Spec(), CancellationToken.None);

        Assert.Equal(ClusterState.Healthy, health.State);
        Assert.Equal((3, 3), (health.MembersUp, health.MembersTotal));
        Assert.Single(health.Members, m => m.Role == MemberRole.Leader);
        Assert.Equal(2, health.Members.Count(m => m.Role == MemberRole.Follower));
        Assert.Equal(health.LeaderName, health.Members.Single(m => m.Role == MemberRole.Leader).Name);
        Assert.Equal(2, health.KeyCount);
        Assert.StartsWith("3.", health.Version, StringComparison.Ordinal);
        Assert.True(health.Revision >= 3);
    }

    [Fact]
    public async Task A_killed_member_is_shown_down_with_the_reason_while_the_rest_stays_visible()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(size: 3);
        var probe = Probe(out var factory);
        using var _ = factory;
        etcd.Members[2].Kill();

        var health = await probe.ProbeAsync(etcd.Spec(), CancellationToken.None);

        Assert.Equal(ClusterState.Degraded, health.State);
        Assert.Equal((2, 3), (health.MembersUp, health.MembersTotal));
        var down = Assert.Single(health.Members, m => !m.IsUp);
        Assert.Equal("m3", down.Name);
        Assert.Contains("connection refused", down.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_cluster_is_reported_in_words()
    {
        var ports = FreePorts.Pick(2);
        var spec = new ClusterSpec(ClusterName.Parse("gone"), [new Uri($"http://127.0.0.1:{ports[0]}"), new Uri($"http://127.0.0.1:{ports[1]}")], null, null, []);
        var probe = Probe(out var factory);
        using var _ = factory;

        var health = await probe.ProbeAsync(spec, CancellationToken.None);

        Assert.Equal(ClusterState.Unreachable, health.State);
        var problem = Assert.Single(health.Problems);
        Assert.Contains($"127.0.0.1:{ports[0]}", problem, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{ports[1]}", problem, StringComparison.Ordinal);
        Assert.Contains("connection refused", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_nospace_alarm_is_shown_by_member_and_writes_fail_with_an_alarm_error()
    {
        // A backend quota far below what the writes need makes etcd raise a real NOSPACE alarm.
        await using var etcd = await TestEtcdCluster.StartAsync(extraArguments: ["--quota-backend-bytes=131072"]);
        var probe = Probe(out var factory);
        using var _ = factory;
        var client = factory.For(etcd.Spec());
        var big = new string('x', 64 * 1024);

        // bbolt grows its file only when it commits a batch (every 100 ms), so write until etcd notices the quota.
        var error = await Assert.ThrowsAsync<EtcdException>(async () =>
        {
            for (var i = 0; i < 2000; i++)
            {
                await client.PutAsync(etcd.Endpoints[0], $"/big/{i}", big, CancellationToken.None);
            }
        });
        var health = await probe.ProbeAsync(etcd.Spec(), CancellationToken.None);

        Assert.Equal(EtcdErrorKind.AlarmActive, error.Kind);
        Assert.Contains("database space exceeded", error.Message, StringComparison.Ordinal);
        Assert.Equal(ClusterState.Degraded, health.State);
        Assert.StartsWith("NOSPACE on m1", Assert.Single(health.Alarms), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Losing_quorum_is_reported_as_no_leader()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(size: 3);
        var probe = Probe(out var factory);
        using var _ = factory;
        var survivor = etcd.Members.Single(m => m.Layout.Name == "m1");
        foreach (var member in etcd.Members.Where(m => m != survivor))
        {
            member.Kill();
        }

        // The survivor notices within an election timeout (1 s by default) that it has no leader.
        var health = await Eventually.ValueAsync(
            () => probe.ProbeAsync(etcd.Spec(), CancellationToken.None),
            h => h.State == ClusterState.NoLeader,
            TimeSpan.FromSeconds(20));

        Assert.Equal((1, 3), (health.MembersUp, health.MembersTotal));
        Assert.Null(health.LeaderName);
        Assert.Contains("lost quorum", health.Problems[0], StringComparison.Ordinal);
    }
}
