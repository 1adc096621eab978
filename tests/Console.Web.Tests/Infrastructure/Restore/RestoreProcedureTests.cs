using Console.Domain.Clusters;
using Console.Domain.Restore;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Restore;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Restore;

/// <summary>The disaster-recovery procedure against a real 3-member cluster, driven by the plan the wizard shows.</summary>
public sealed class RestoreProcedureTests
{
    private static readonly RestoreTool Etcdctl = new("etcdctl", new Version(3, 4, 23));

    [Fact]
    public async Task Restoring_every_member_from_one_snapshot_brings_back_its_data_with_one_leader_and_equal_hashes()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(size: 3);
        using var harness = new BackupHarness(etcd.Spec());
        var client = harness.Clients.For(etcd.Spec());
        for (var i = 0; i < 10; i++)
        {
            await client.PutAsync(etcd.Endpoints[0], $"/a/{i}", "before the backup", CancellationToken.None);
        }

        var backup = await harness.BackupAsync();
        var snapshotRevision = (await client.StatusAsync(etcd.Endpoints[0], CancellationToken.None)).Revision;
        for (var i = 0; i < 10; i++)
        {
            await client.PutAsync(etcd.Endpoints[0], $"/b/{i}", "after the backup", CancellationToken.None);
        }

        var plan = RestorePlanner.Plan(ClusterName.Parse("test"), etcd.Spec().Members, backup.Location!, Etcdctl, DateTimeOffset.UtcNow, RestorePlanner.NewToken(ClusterName.Parse("test"), Guid.NewGuid()));
        await etcd.StopAllAsync();
        Assert.All(etcd.Members, m => Assert.True(m.HasExited));

        var executor = new RestoreExecutor(TimeSpan.FromMinutes(1));
        foreach (var member in plan.Members)
        {
            var result = await executor.RestoreMemberAsync(plan, member, CancellationToken.None);
            Assert.True(result.Ok, result.Detail);
            Assert.True(Directory.Exists(member.AsideDir), "the old data dir is kept aside");
        }

        await etcd.StartAllAgainAsync();
        using var fresh = new EtcdClusterClient(etcd.Spec(), TimeSpan.FromSeconds(5));
        var report = await Eventually.ValueAsync(
            () => RestoreProof.CheckAsync(fresh, plan, snapshotRevision, 10 + 1, CancellationToken.None), // the ten keys and the backup's canary
            r => r.Ok,
            TimeSpan.FromSeconds(30));

        Assert.True(report.Ok, string.Join("; ", report.Checks.Select(c => $"{c.Check}: {c.Ok} ({c.Detail})")));
        Assert.Equal(10, await fresh.CountKeysAsync(etcd.Endpoints[1], "/a/", CancellationToken.None));
        Assert.Equal(0, await fresh.CountKeysAsync(etcd.Endpoints[2], "/b/", CancellationToken.None));
    }

    [Fact]
    public async Task A_restore_that_cannot_be_written_leaves_the_old_data_and_roll_back_is_a_no_op_that_keeps_it()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(size: 1);
        using var harness = new BackupHarness(etcd.Spec());
        await harness.Clients.For(etcd.Spec()).PutAsync(etcd.Endpoints[0], "/kept", "original", CancellationToken.None);
        var backup = await harness.BackupAsync();
        var plan = RestorePlanner.Plan(ClusterName.Parse("test"), etcd.Spec().Members, backup.Location!, Etcdctl, DateTimeOffset.UtcNow, "t");
        await etcd.StopAllAsync();

        // Something already sits where the restore must go: the tool refuses, nothing is swapped.
        Directory.CreateDirectory(plan.Members[0].RestoreDir);
        var result = await new RestoreExecutor(TimeSpan.FromMinutes(1)).RestoreMemberAsync(plan, plan.Members[0], CancellationToken.None);
        var rollBack = RestoreExecutor.RollBack(plan.Members[0], DateTimeOffset.UtcNow);

        Assert.False(result.Ok);
        Assert.Contains("already exists", result.Detail, StringComparison.Ordinal);
        Assert.True(rollBack.Ok);
        Assert.False(Directory.Exists(plan.Members[0].AsideDir));
        await etcd.StartAllAgainAsync();
        Assert.Equal("original", await harness.Clients.For(etcd.Spec()).GetAsync(etcd.Endpoints[0], "/kept", CancellationToken.None));
    }

    [Fact]
    public async Task Roll_back_after_a_swap_returns_the_original_data()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(size: 1);
        using var harness = new BackupHarness(etcd.Spec());
        var client = harness.Clients.For(etcd.Spec());
        await client.PutAsync(etcd.Endpoints[0], "/v", "old", CancellationToken.None);
        var backup = await harness.BackupAsync();
        await client.PutAsync(etcd.Endpoints[0], "/v", "newer", CancellationToken.None);
        var plan = RestorePlanner.Plan(ClusterName.Parse("test"), etcd.Spec().Members, backup.Location!, Etcdctl, DateTimeOffset.UtcNow, "t");
        await etcd.StopAllAsync();

        Assert.True((await new RestoreExecutor(TimeSpan.FromMinutes(1)).RestoreMemberAsync(plan, plan.Members[0], CancellationToken.None)).Ok);
        var rollBack = RestoreExecutor.RollBack(plan.Members[0], DateTimeOffset.UtcNow);
        await etcd.StartAllAgainAsync();

        Assert.True(rollBack.Ok, rollBack.Detail);
        using var fresh = new EtcdClusterClient(etcd.Spec(), TimeSpan.FromSeconds(5));
        Assert.Equal("newer", await fresh.GetAsync(etcd.Endpoints[0], "/v", CancellationToken.None));
        Assert.Single(Directory.GetDirectories(Path.GetDirectoryName(plan.Members[0].DataDir)!, "m1.failed-restore-*"));
    }
}
