using System.Collections.Concurrent;
using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Backups;

/// <summary>The run's progress as immutable updates on the feed, against a real etcd and a real local store.</summary>
public sealed class BackupProgressFeedTests
{
    [Fact]
    public async Task A_run_publishes_its_phases_in_order_with_growing_bytes_and_ends_with_its_record()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var harness = new BackupHarness(etcd.Spec());
        await harness.FillAsync(8);
        var seen = new ConcurrentQueue<BackupProgress>();
        using var subscription = harness.Progress.Subscribe(seen.Enqueue);

        var record = await harness.BackupAsync();

        var updates = seen.ToList();
        Assert.All(updates, u => Assert.Equal(record.Id, u.RecordId));
        var phases = updates.Select(u => u.Phase).Distinct().ToList();
        Assert.Equal([BackupPhase.Starting, BackupPhase.ChoosingMember, BackupPhase.Streaming, BackupPhase.Finalizing, BackupPhase.Pruning, BackupPhase.Finished], phases);
        var bytes = updates.Select(u => u.BytesReceived).ToList();
        Assert.Equal(bytes.Order(), bytes);
        var last = updates[^1];
        Assert.True(last.IsFinished);
        Assert.Equal(record, last.Final);
        Assert.Equal(record.SizeBytes, last.BytesReceived);
        Assert.Equal(100, last.Percent);
        Assert.Equal(last, harness.Progress.Latest(etcd.Spec().Name.Value));
    }

    [Fact]
    public async Task A_disposed_subscription_gets_nothing_and_a_failing_subscriber_never_fails_the_backup()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var harness = new BackupHarness(etcd.Spec());
        await harness.FillAsync(4);
        var afterDispose = 0;
        var subscription = harness.Progress.Subscribe(_ => Interlocked.Increment(ref afterDispose));
        subscription.Dispose();
        using var failing = harness.Progress.Subscribe(_ => throw new InvalidOperationException("a page that broke"));
        var stillCalled = 0;
        using var healthy = harness.Progress.Subscribe(_ => Interlocked.Increment(ref stillCalled));

        var record = await harness.BackupAsync();

        Assert.Equal(BackupStatus.Succeeded, record.Status);
        Assert.Equal(0, afterDispose);
        Assert.True(stillCalled >= 6, $"the subscriber after the failing one got {stillCalled} updates");
        Assert.Contains("A subscriber to the backup progress of", harness.Log.Text, StringComparison.Ordinal);
    }
}
