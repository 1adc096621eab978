using Console.Domain.Backups;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Fixtures;
using Console.Web.Tests.Infrastructure.Sealing;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Continuous;

/// <summary>
/// The watcher in the real console (in process) against real etcd: what it writes is exactly the source's history
/// after the full snapshot it started from, checked revision by revision against etcdctl get --rev.
/// </summary>
public sealed class CaptureTests
{
    [Fact]
    public async Task Local_segments_hold_exactly_the_sources_history_from_the_snapshots_revision_without_a_gap()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var writer = new EtcdWriter(etcd.Endpoints[0]);
        await writer.PutAsync("/before/a", "in the base snapshot");
        await using var app = ConsoleApp.Start(CaptureOracle.Settings(etcd));

        var baseRevision = await CaptureOracle.BaseRevisionAsync(app.Services);
        var records = app.Services.GetRequiredService<BackupRecordStore>();
        var first = await records.LastSuccessAsync(CaptureOracle.Cluster, CancellationToken.None);
        Assert.Equal(BackupTrigger.Continuous, first!.Trigger);
        Assert.Equal(baseRevision, first.Revision);

        // The leased puts are made durable before the long lease is revoked, so their segment knows its granted TTL.
        var head = await writer.MixedHistoryAsync("/w", rounds: 9, leased => CaptureOracle.DurableAtLeastAsync(app.Services, leased));
        await CaptureOracle.DurableAtLeastAsync(app.Services, head);

        var segments = await CaptureOracle.ReadAllAsync(app.Services, baseRevision, head);
        var seen = CaptureOracle.ReplayAndCompare(etcd, segments, baseRevision, head);
        Assert.Equal(Enumerable.Range((int)baseRevision + 1, (int)(head - baseRevision)).Select(r => (long)r), seen);

        // Each leased put's segment carries its lease's granted TTL (60 s; the 2 s one, or -1 if it had expired by the flush).
        var leased = segments.SelectMany(s => s.Revisions.SelectMany(r => r.Events).Where(e => e.Lease != 0).Select(e => (Segment: s, e.Lease, e.KeyText))).ToList();
        Assert.Equal(3, leased.Count);
        var held = leased.Single(l => l.KeyText == "/w/leased/long");
        Assert.Equal(60, held.Segment.LeaseTtls[held.Lease]);
        Assert.All(leased.Where(l => l.KeyText != "/w/leased/long"), l => Assert.Contains(l.Segment.LeaseTtls[l.Lease], new long[] { 2, -1 }));

        // On disk: only in deltas/, each at its final name (no .part left), and the snapshot listing never sees them.
        var local = app.Services.GetRequiredService<LocalSnapshotStore>();
        var stored = await local.ListSegmentsAsync(CaptureOracle.Name, CancellationToken.None);
        Assert.NotEmpty(stored);
        Assert.All(stored, s => Assert.StartsWith(local.SegmentDirectory, s.Location, StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(local.SegmentDirectory, "*.part"));
        Assert.All(local.List(CaptureOracle.Name), s => Assert.EndsWith(".db", s.Name.FileName, StringComparison.Ordinal));

        var window = await app.Services.GetRequiredService<IDeltaHistory>().WindowAsync(CaptureOracle.Name, CancellationToken.None);
        var span = Assert.Single(window.Spans);
        Assert.Equal((baseRevision, head), (span.FromRevision, span.ToRevision));
        Assert.Empty(window.Breaks);
    }

    [Fact]
    public async Task Sealed_segments_in_s3_hold_the_same_exact_history()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        using var keys = await AgeKeys.CreateAsync();
        var settings = CaptureOracle.Settings(etcd);
        foreach (var (key, value) in s3.ConfigurationKeys())
        {
            settings[key] = value;
        }

        settings["Console:Clusters:0:Backup:Targets:0"] = "s3";
        settings["Console:Clusters:0:Backup:Compression:Codec"] = "zstd";
        settings["Console:Clusters:0:Backup:Encryption:Recipients:0"] = keys.Recipient;
        settings["Console:Encryption:IdentityFiles:0"] = keys.IdentityFile;
        using var writer = new EtcdWriter(etcd.Endpoints[0]);
        await using var app = ConsoleApp.Start(settings);

        var baseRevision = await CaptureOracle.BaseRevisionAsync(app.Services);
        var head = await writer.MixedHistoryAsync("/s", rounds: 4);
        await CaptureOracle.DurableAtLeastAsync(app.Services, head);

        var stored = await app.Services.GetRequiredService<S3SnapshotStore>().ListSegmentsAsync(CaptureOracle.Name, CancellationToken.None);
        Assert.NotEmpty(stored);
        Assert.All(stored, s => Assert.EndsWith(".delta.zst.age", s.Name.FileName, StringComparison.Ordinal));
        Assert.All(stored, s => Assert.Contains("/etcd/cap/deltas/", s.Location, StringComparison.Ordinal));

        var segments = await CaptureOracle.ReadAllAsync(app.Services, baseRevision, head);
        var seen = CaptureOracle.ReplayAndCompare(etcd, segments, baseRevision, head);
        Assert.Equal(Enumerable.Range((int)baseRevision + 1, (int)(head - baseRevision)).Select(r => (long)r), seen);
    }

    [Fact]
    public async Task An_idle_cluster_keeps_advancing_its_durable_time_without_new_segments()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var writer = new EtcdWriter(etcd.Endpoints[0]);
        await using var app = ConsoleApp.Start(CaptureOracle.Settings(etcd));
        await CaptureOracle.BaseRevisionAsync(app.Services);
        var head = await writer.PutAsync("/idle/last", "then nothing");
        var ledger = app.Services.GetRequiredService<DeltaLedger>();
        var durable = await CaptureOracle.DurableAtLeastAsync(app.Services, head);
        var segments = (await ledger.SegmentsAsync(CaptureOracle.Cluster, CancellationToken.None)).Count;

        // Several flush intervals with no writes: progress notifications confirm nothing newer exists.
        var later = await Eventually.ValueAsync(
            () => ledger.StateAsync(CaptureOracle.Cluster, CancellationToken.None),
            s => s!.DurableTime >= durable!.DurableTime + TimeSpan.FromSeconds(3),
            TimeSpan.FromSeconds(60));
        Assert.Equal(head, later!.DurableRevision);
        Assert.Equal(segments, (await ledger.SegmentsAsync(CaptureOracle.Cluster, CancellationToken.None)).Count);

        var window = await app.Services.GetRequiredService<IDeltaHistory>().WindowAsync(CaptureOracle.Name, CancellationToken.None);
        Assert.Equal(head, window.Current!.ToRevision);
        Assert.True(window.Current.ToTime >= later.DurableTime - TimeSpan.FromSeconds(2), $"the span ends at {window.Current.ToTime:O}, the durable time is {later.DurableTime:O}");
        Assert.True(window.Rpo(DateTimeOffset.UtcNow) < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_damaged_segment_is_named_by_the_read_and_the_window_ends_before_it_with_the_reason()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var writer = new EtcdWriter(etcd.Endpoints[0]);
        await using var app = ConsoleApp.Start(CaptureOracle.Settings(etcd));
        var baseRevision = await CaptureOracle.BaseRevisionAsync(app.Services);
        var ledger = app.Services.GetRequiredService<DeltaLedger>();

        // Three flushes at least: write, wait until durable, write again.
        long head = 0;
        for (var i = 0; i < 3; i++)
        {
            head = await writer.PutAsync($"/d/{i}", "x");
            head = await writer.PutAsync($"/d/{i}", "y");
            await CaptureOracle.DurableAtLeastAsync(app.Services, head);
        }

        var recorded = await ledger.SegmentsAsync(CaptureOracle.Cluster, CancellationToken.None);
        Assert.True(recorded.Count >= 3, $"{recorded.Count} segment(s)");
        var victim = recorded[1];
        var path = Path.Combine(app.Services.GetRequiredService<LocalSnapshotStore>().SegmentDirectory, victim.FileName);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x20;
        await File.WriteAllBytesAsync(path, bytes);

        var refused = await Assert.ThrowsAsync<DeltaSegmentException>(() => CaptureOracle.ReadAllAsync(app.Services, baseRevision, head));
        Assert.Contains(victim.FileName, refused.Message, StringComparison.Ordinal);
        Assert.Contains("sha256", refused.Message, StringComparison.Ordinal);

        var window = await app.Services.GetRequiredService<IDeltaHistory>().WindowAsync(CaptureOracle.Name, CancellationToken.None);
        Assert.Equal(victim.FirstRevision - 1, window.Spans[0].ToRevision);
        var gap = Assert.Single(window.Breaks);
        Assert.Equal(victim.FirstRevision - 1, gap.AfterRevision);
        Assert.Contains(victim.FileName, gap.Reason, StringComparison.Ordinal);
        Assert.Contains("sha256", gap.Reason, StringComparison.Ordinal);

        // Reading what lies before it still works.
        var before = await CaptureOracle.ReadAllAsync(app.Services, baseRevision, victim.FirstRevision - 1);
        Assert.Equal(victim.FirstRevision - 1, before[^1].LastRevision);
    }
}
