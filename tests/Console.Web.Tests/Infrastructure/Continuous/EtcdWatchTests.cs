using System.Text;
using Console.Domain.Backups;
using Console.Infrastructure.Etcd;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Continuous;

public sealed class EtcdWatchTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_watch_from_an_old_revision_replays_every_event_then_answers_progress_requests()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var client = new EtcdClusterClient(etcd.Spec(), Timeout);
        var first = await client.PutAsync(etcd.Endpoints[0], "/a", "1", CancellationToken.None);
        await client.PutAsync(etcd.Endpoints[0], "/a", "2", CancellationToken.None);
        etcd.Etcdctl("del", "/a");
        var last = await client.PutAsync(etcd.Endpoints[0], "/b", "3", CancellationToken.None);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var watch = await client.WatchAsync(etcd.Endpoints[0], first, deadline.Token);
        var events = new List<DeltaEvent>();
        EtcdWatchBatch? progress = null;
        await foreach (var batch in watch.ReadAllAsync(deadline.Token))
        {
            events.AddRange(batch.Events);
            if (events.Count == 4 && progress is null && !batch.IsProgress)
            {
                await watch.RequestProgressAsync(deadline.Token);
            }

            if (batch.IsProgress)
            {
                progress = batch;
                break;
            }
        }

        Assert.Equal([first, first + 1, first + 2, last], events.Select(e => e.ModRevision));
        Assert.Equal([DeltaEventKind.Put, DeltaEventKind.Put, DeltaEventKind.Delete, DeltaEventKind.Put], events.Select(e => e.Kind));
        Assert.Equal("2", Encoding.UTF8.GetString(events[1].Value));
        Assert.Equal(2, events[1].Version);
        Assert.Equal(first, events[1].CreateRevision);
        Assert.Equal("/a", events[2].KeyText);
        Assert.Equal(last, progress!.HeaderRevision);
    }

    [Fact]
    public async Task A_watch_from_a_compacted_revision_says_so_and_ends()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var client = new EtcdClusterClient(etcd.Spec(), Timeout);
        var first = await client.PutAsync(etcd.Endpoints[0], "/a", "1", CancellationToken.None);
        var last = await client.PutAsync(etcd.Endpoints[0], "/a", "2", CancellationToken.None);
        etcd.Etcdctl("compaction", last.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var watch = await client.WatchAsync(etcd.Endpoints[0], first, deadline.Token);
        var batches = new List<EtcdWatchBatch>();
        await foreach (var batch in watch.ReadAllAsync(deadline.Token))
        {
            batches.Add(batch);
        }

        var end = Assert.Single(batches);
        Assert.True(end.IsCompacted);
        Assert.Equal(last, end.CompactRevision);
    }
}
