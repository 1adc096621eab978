using System.Security.Cryptography;
using Amazon.S3.Model;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Dapper;

namespace Console.Web.Tests.Infrastructure.Storage;

public sealed class S3StoreTests
{
    private static ClusterSpec Targets(TestEtcdCluster etcd, int? keep = 7, params string[] targets) =>
        etcd.Spec() with { Backup = BackupPolicy.Default with { Targets = targets, Retention = new RetentionPolicy(keep, null) } };

    private static async Task<(long Size, string FooterSha)> ReadAsync(Stream stream)
    {
        await using (stream)
        {
            var sha = await Console.Infrastructure.Storage.SnapshotCatalog.VerifyStreamAsync(stream, CancellationToken.None);
            return (0, sha);
        }
    }

    [Fact]
    public async Task A_50_MB_snapshot_goes_up_in_several_parts_and_comes_back_with_the_same_sha256()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        using var harness = new BackupHarness(Targets(etcd, 7, "s3"), s3: s3);
        await harness.FillAsync(52);

        var record = await harness.BackupAsync();

        Assert.True(record.Status == BackupStatus.Succeeded, record.Error);
        Assert.True(record.SizeBytes > 50_000_000);
        Assert.True(SnapshotName.TryParse(record.FileName!, out var name));
        var key = harness.S3!.KeyOf(name);
        Assert.Equal($"s3://{S3rver.Bucket}/{key}", record.Location);
        var head = await harness.S3.Client.GetObjectMetadataAsync(S3rver.Bucket, key);
        Assert.Equal(record.SizeBytes, head.ContentLength);
        Assert.DoesNotContain(head.Metadata.Keys, k => k.Contains("sha256", StringComparison.OrdinalIgnoreCase)); // the manifest carries it: written once
        var parts = harness.S3.PartsUploaded;
        Assert.True(parts >= 10, $"expected 5 MiB parts for {record.SizeBytes} bytes, got {parts} part(s)");

        var (_, sha) = await ReadAsync(await harness.S3.OpenReadAsync(name, CancellationToken.None));
        Assert.Equal(record.Sha256, sha);
        Assert.Equal(record.Sha256, (await harness.S3.ReadManifestAsync(name, CancellationToken.None))!.Sha256);
        Assert.Empty(Directory.Exists(harness.Store.Directory) ? Directory.GetFiles(harness.Store.Directory) : []);
    }

    [Fact]
    public async Task Listing_pages_through_more_than_1000_objects_under_the_prefix()
    {
        await using var s3 = await S3rver.StartAsync();
        using var harness = new BackupHarness(new ClusterSpec(ClusterName.Parse("test"), [new Uri("http://127.0.0.1:1")], null, null, []), s3: s3);
        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var names = Enumerable.Range(0, 1100).Select(i => SnapshotName.For(ClusterName.Parse("test"), start.AddMinutes(i))).ToList();
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (name, ct) =>
            await harness.S3!.PutSmallAsync(harness.S3.KeyOf(name), [1, 2, 3], ct));
        await harness.S3!.PutSmallAsync("etcd/test/not-a-snapshot.txt", [1], CancellationToken.None);

        var listed = await harness.S3.ListAsync(ClusterName.Parse("test"), withManifests: false, CancellationToken.None);

        Assert.Equal(1100, listed.Count);
        Assert.Equal(names[^1], listed[0].Name);
        Assert.Equal(names[0], listed[^1].Name);
    }

    [Fact]
    public async Task S3_dying_mid_upload_keeps_the_local_copy_records_the_failure_and_the_retry_uploads_it()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        using var harness = new BackupHarness(Targets(etcd, 7, "local", "s3"), s3: s3);
        await harness.FillAsync(24);
        using var mid = harness.Progress.Subscribe(run =>
        {
            if (run.Phase == BackupPhase.Streaming && run.BytesReceived > 0)
            {
                s3.Kill();
            }
        });

        var record = await harness.BackupAsync();

        Assert.Equal(BackupStatus.PartiallySucceeded, record.Status);
        Assert.StartsWith("s3: ", record.Error, StringComparison.Ordinal);
        Assert.Contains("local copy is kept and the upload is retried", record.Error, StringComparison.Ordinal);
        var local = harness.Store.PathOf(SnapshotName.TryParse(record.FileName!, out var name) ? name : default);
        Assert.Equal(record.Sha256, await Console.Infrastructure.Etcd.SnapshotVerifier.VerifyFileAsync(local, CancellationToken.None));
        var copies = await harness.Ledger.CopiesAsync(record.Id, CancellationToken.None);
        Assert.Equal([("local", CopyStatus.Stored), ("s3", CopyStatus.Pending)], copies.Select(c => (c.Target, c.Status)));

        Assert.Equal(0, await harness.Retry().RetryPendingAsync(CancellationToken.None)); // still down: stays pending
        await s3.StartAgainAsync();
        Assert.Equal(1, await harness.Retry().RetryPendingAsync(CancellationToken.None));

        var after = await harness.Records.GetAsync(record.Id, CancellationToken.None);
        Assert.Equal(BackupStatus.Succeeded, after!.Status);
        Assert.Null(after.Error);
        Assert.Contains("s3 copy uploaded from the local copy", after.RetentionNote, StringComparison.Ordinal);
        var (_, sha) = await ReadAsync(await harness.S3!.OpenReadAsync(name, CancellationToken.None));
        Assert.Equal(record.Sha256, sha);
        Assert.Empty(await harness.Ledger.PendingUploadsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Retention_in_the_bucket_deletes_only_our_snapshots()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        using var harness = new BackupHarness(Targets(etcd, 1, "s3"), s3: s3);
        string[] foreign = ["etcd/test/notes.txt", "etcd/test/test_20200101T000000.000Z.db.bak", "etcd/other/other_20200101T000000.000Z.db", "etcd/readme.md", "unrelated/test_20200101T000000.000Z.db"];
        foreach (var key in foreign)
        {
            await harness.S3!.PutSmallAsync(key, [42], CancellationToken.None);
        }

        var first = await harness.BackupAsync();
        var second = await harness.BackupAsync();
        Assert.True(first.Status == BackupStatus.Succeeded, first.Error);
        Assert.True(second.Status == BackupStatus.Succeeded, second.Error);

        var keys = (await harness.S3!.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rver.Bucket })).S3Objects.Select(o => o.Key).ToHashSet();
        Assert.All(foreign, key => Assert.Contains(key, keys));
        Assert.DoesNotContain($"etcd/test/{first.FileName}", keys);
        Assert.DoesNotContain($"etcd/test/{first.FileName}.json", keys);
        Assert.Contains($"etcd/test/{second.FileName}", keys);
        Assert.Contains($"s3 retention (keep newest 1): deleted {first.FileName}", second.RetentionNote, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Look_alikes_in_the_bucket_are_set_aside_and_never_displace_real_snapshots()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        using var harness = new BackupHarness(Targets(etcd, 2, "s3"), s3: s3);
        string[] junk = ["etcd/test/test_20990101T000000.000Z.db", "etcd/test/test_20990102T000000.000Z.db", "etcd/test/test_20990103T000000.000Z.db"];
        foreach (var key in junk)
        {
            await harness.S3!.PutSmallAsync(key, RandomNumberGenerator.GetBytes(4096), CancellationToken.None);
        }

        var records = new List<BackupRecord>();
        for (var i = 0; i < 3; i++)
        {
            records.Add(await harness.BackupAsync());
        }

        var keys = (await harness.S3!.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rver.Bucket })).S3Objects.Select(o => o.Key).ToHashSet();
        Assert.All(records, r => Assert.True(r.Status == BackupStatus.Succeeded, r.Error));
        Assert.All(junk, key => Assert.Contains(key, keys));
        Assert.DoesNotContain($"etcd/test/{records[0].FileName}", keys);
        Assert.Contains($"etcd/test/{records[1].FileName}", keys);
        Assert.Contains($"etcd/test/{records[2].FileName}", keys);
        Assert.Contains("s3 retention (keep newest 2): deleted", records[2].RetentionNote, StringComparison.Ordinal);
        Assert.Contains("set aside 3 file(s) named like snapshots but without a manifest of ours", records[2].RetentionNote, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_detects_a_corrupted_copy_and_a_replaced_one_and_records_the_result()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        using var harness = new BackupHarness(Targets(etcd, 7, "local", "s3"), s3: s3);
        var record = await harness.BackupAsync();
        Assert.True(SnapshotName.TryParse(record.FileName!, out var name));

        var good = await harness.Snapshots.VerifyAsync("s3", name, TestActors.Of("test"), CancellationToken.None);
        var bytes = await File.ReadAllBytesAsync(harness.Store.PathOf(name));
        bytes[bytes.Length / 3] ^= 0x40;
        await harness.S3!.PutSmallAsync(harness.S3.KeyOf(name), bytes, CancellationToken.None);
        var corrupt = await harness.Snapshots.VerifyAsync("s3", name, TestActors.Of("test"), CancellationToken.None);
        var local = await harness.Snapshots.VerifyAsync("local", name, TestActors.Of("test"), CancellationToken.None);

        Assert.True(good.Ok, good.Detail);
        Assert.False(corrupt.Ok);
        Assert.Contains("does not match its content", corrupt.Detail, StringComparison.Ordinal);
        Assert.True(local.Ok, local.Detail);
        var latest = await harness.Ledger.LatestVerificationsAsync(CancellationToken.None);
        Assert.False(latest[(name.FileName, "s3")].Ok);
        Assert.True(latest[(name.FileName, "local")].Ok);

        // A valid snapshot that is not the recorded one (its own footer is fine) is caught by the manifest.
        etcd.Etcdctl("put", "/different", "content");
        var other = await harness.BackupAsync();
        Assert.NotEqual(record.Sha256, other.Sha256);
        File.Copy(harness.Store.PathOf(SnapshotName.TryParse(other.FileName!, out var otherName) ? otherName : default), harness.Store.PathOf(name), overwrite: true);
        var replaced = await harness.Snapshots.VerifyAsync("local", name, TestActors.Of("test"), CancellationToken.None);
        Assert.False(replaced.Ok);
        Assert.Contains("differs from the manifest", replaced.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task History_is_rebuilt_from_the_manifests_in_the_stores()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        using var harness = new BackupHarness(Targets(etcd, 7, "local", "s3"), s3: s3);
        var first = await harness.BackupAsync();
        var second = await harness.BackupAsync();
        await using (var connection = await harness.Database.OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync("DELETE FROM backups");
        }

        var added = await harness.Snapshots.RebuildHistoryAsync(TestActors.Of("test"), CancellationToken.None);
        var again = await harness.Snapshots.RebuildHistoryAsync(TestActors.Of("test"), CancellationToken.None);

        Assert.Equal(2, added);
        Assert.Equal(0, again);
        var page = await harness.Records.QueryAsync(new BackupQuery("test"), CancellationToken.None);
        Assert.Equal([second.FileName, first.FileName], page.Items.Select(r => r.FileName));
        var rebuilt = page.Items[0];
        Assert.Equal((second.Sha256, second.SizeBytes, second.Member, BackupStatus.Succeeded), (rebuilt.Sha256, rebuilt.SizeBytes, rebuilt.Member, rebuilt.Status));
        Assert.Equal("local+s3", rebuilt.Targets);
        Assert.Contains("rebuilt from store", rebuilt.RequestedBy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Storage_health_reports_the_bucket_writable_and_then_why_not_when_the_endpoint_is_down()
    {
        await using var s3 = await S3rver.StartAsync();
        using var harness = new BackupHarness(new ClusterSpec(ClusterName.Parse("test"), [new Uri("http://127.0.0.1:1")], null, null, []), s3: s3);
        var monitor = new Console.Infrastructure.Storage.StorageHealthMonitor(harness.Stores, harness.Settings, TimeProvider.System);

        await monitor.CheckNowAsync(CancellationToken.None);
        var up = monitor.Current["s3"];
        var leftOver = await harness.S3!.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rver.Bucket });
        s3.Kill();
        await monitor.CheckNowAsync(CancellationToken.None);
        var down = monitor.Current["s3"];

        Assert.True(up.Ok, up.Detail);
        Assert.Contains("reachable and writable", up.Detail, StringComparison.Ordinal);
        Assert.True(monitor.Current["local"].Ok);
        Assert.False(down.Ok);
        Assert.Contains("cannot reach the S3 endpoint", down.Detail, StringComparison.Ordinal);
        Assert.True(down.CheckedAt >= up.CheckedAt);
        Assert.Empty(leftOver.S3Objects ?? []); // the probe object was removed
    }

    [Fact]
    public async Task Retention_keeps_a_local_copy_whose_upload_is_still_pending()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        using var harness = new BackupHarness(Targets(etcd, 1, "local", "s3"), s3: s3);
        s3.Kill();
        var pending = await harness.BackupAsync();
        var next = await harness.BackupAsync();

        Assert.Equal(BackupStatus.PartiallySucceeded, pending.Status);
        Assert.True(SnapshotName.TryParse(pending.FileName!, out var name));
        Assert.True(File.Exists(harness.Store.PathOf(name)), next.RetentionNote);
        Assert.Contains("local retention (keep newest 1): nothing to delete, 2 kept", next.RetentionNote, StringComparison.Ordinal);
    }
}
