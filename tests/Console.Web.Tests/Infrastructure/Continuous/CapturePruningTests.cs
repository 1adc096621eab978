using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Continuous;

public sealed class CapturePruningTests
{
    [Fact]
    public async Task Segments_are_pruned_only_once_the_full_snapshot_they_extend_is_gone_and_the_ledger_follows()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var writer = new EtcdWriter(etcd.Endpoints[0]);
        var settings = CaptureOracle.Settings(etcd);
        settings["Console:Clusters:0:Backup:Retention:Count"] = "1";
        await using var app = ConsoleApp.Start(settings);
        var baseRevision = await CaptureOracle.BaseRevisionAsync(app.Services);
        for (var i = 0; i < 2; i++)
        {
            await CaptureOracle.DurableAtLeastAsync(app.Services, await writer.PutAsync($"/p/{i}", "before the second snapshot"));
        }

        // A second full snapshot; retention (keep 1) deletes the first, the one the early segments extend.
        var second = await app.Services.GetRequiredService<BackupRunner>().RunAsync(CaptureOracle.Cluster, BackupTrigger.Manual, Actor.System("test"), CancellationToken.None);
        Assert.Equal(BackupStatus.Succeeded, second.Status);
        Assert.Contains("deleted", second.RetentionNote, StringComparison.Ordinal);
        var head = await writer.PutAsync("/p/after", "after the second snapshot");
        await CaptureOracle.DurableAtLeastAsync(app.Services, head);

        var local = app.Services.GetRequiredService<LocalSnapshotStore>();
        var ledger = app.Services.GetRequiredService<DeltaLedger>();
        var before = await local.ListSegmentsAsync(CaptureOracle.Name, CancellationToken.None);
        Assert.Contains(before, s => s.Name.LastRevision < second.Revision);
        Assert.Contains(before, s => s.Name.LastRevision >= second.Revision);

        var spec = app.Services.GetRequiredService<ClusterCatalog>().Find(CaptureOracle.Cluster)!;
        var deleted = await app.Services.GetRequiredService<DeltaPruning>().PruneAsync(spec, CancellationToken.None);

        var after = await local.ListSegmentsAsync(CaptureOracle.Name, CancellationToken.None);
        // (The watcher prunes too, every few minutes: whichever of the two got there, the older segments are gone.)
        var older = before.Where(s => s.Name.LastRevision < second.Revision).Select(s => s.Name.FileName).ToList();
        Assert.All(deleted["local"], name => Assert.Contains(name, older));
        Assert.All(after, s => Assert.True(s.Name.LastRevision >= second.Revision, s.Name.FileName));
        Assert.Equal(after.Select(s => s.Name.FileName), (await ledger.SegmentsAsync(CaptureOracle.Cluster, CancellationToken.None)).Select(s => s.FileName));

        // What is left still rebuilds the source exactly from the snapshot that remains.
        var window = await app.Services.GetRequiredService<IDeltaHistory>().WindowAsync(CaptureOracle.Name, CancellationToken.None);
        var span = Assert.Single(window.Spans);
        Assert.Equal(second.Revision, span.FromRevision);
        Assert.True(span.ToRevision >= head);
        Assert.True(baseRevision < span.FromRevision);
        var segments = await CaptureOracle.ReadAllAsync(app.Services, span.FromRevision, head);
        Assert.Equal(head, CaptureOracle.ReplayAndCompare(etcd, segments, span.FromRevision, head)[^1]);
    }
}
