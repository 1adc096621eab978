using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Amazon.S3.Model;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Storage;

/// <summary>
/// Object Lock, server-side encryption and the single write, against a real s3rver with every request recorded on the
/// wire. s3rver ignores lock and encryption headers: these tests prove what is sent and that the objects round-trip,
/// not that a server enforces them.
/// </summary>
public sealed class S3ProtectionTests
{
    private const string KmsKey = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    private static ClusterSpec Targets(TestEtcdCluster etcd, int keep) =>
        etcd.Spec() with { Backup = BackupPolicy.Default with { Targets = ["s3"], Retention = new RetentionPolicy(keep, null) } };

    private static S3StorageSettings Locked(S3StorageSettings s, string retainFor) =>
        s with { ObjectLock = new() { Mode = S3ObjectLockSettings.Governance, RetainFor = retainFor } };

#pragma warning disable CA5351 // S3's Content-MD5, as the tests check it was sent.
    private static string Md5(byte[] content) => Convert.ToBase64String(MD5.HashData(content));
#pragma warning restore CA5351

    [Fact]
    public async Task An_upload_sends_the_lock_kms_encryption_and_checksums_and_writes_each_object_once()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        var http = new RecordingS3Http();
        using var harness = new BackupHarness(Targets(etcd, 7), s3: s3, s3Http: http, s3Settings: s => Locked(s, "30d") with
        {
            ServerSideEncryption = new() { Method = S3ServerSideEncryptionSettings.Kms, KmsKeyId = KmsKey },
        });
        await harness.FillAsync(12);

        var record = await harness.BackupAsync();

        Assert.True(record.Status == BackupStatus.Succeeded, record.Error);
        Assert.True(SnapshotName.TryParse(record.FileName!, out var name));
        var key = harness.S3!.KeyOf(name);
        var until = name.TakenAt + TimeSpan.FromDays(30);
        var sent = http.Sent;

        var create = Assert.Single(sent, r => r.Is("POST", key) && r.Query.Contains("uploads", StringComparison.Ordinal));
        var manifestPut = Assert.Single(sent, r => r.Is("PUT", key + SnapshotName.ManifestExtension));
        foreach (var request in new[] { create, manifestPut })
        {
            Assert.Equal("GOVERNANCE", request.Header("x-amz-object-lock-mode"));
            Assert.Equal(until, DateTimeOffset.Parse(request.Header("x-amz-object-lock-retain-until-date")!, CultureInfo.InvariantCulture));
            Assert.Equal("aws:kms", request.Header("x-amz-server-side-encryption"));
            Assert.Equal(KmsKey, request.Header("x-amz-server-side-encryption-aws-kms-key-id"));
        }

        // Every body S3 keeps under a retention period carries its checksum (AWS refuses it otherwise).
        var parts = sent.Where(r => r.Is("PUT", key) && r.Query.Contains("partNumber", StringComparison.Ordinal)).ToList();
        Assert.True(parts.Count >= 2, $"expected several parts, got {parts.Count}");
        Assert.All(parts, p => Assert.Equal(24, p.Header("Content-MD5")?.Length));
        using var stored = await harness.S3.Client.GetObjectAsync(S3rver.Bucket, key + SnapshotName.ManifestExtension);
        using var manifestBytes = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(manifestBytes);
        Assert.Equal(Md5(manifestBytes.ToArray()), manifestPut.Header("Content-MD5"));

        // Written once: no server-side copy, no sha256 metadata; the manifest carries the hash.
        Assert.DoesNotContain(sent, r => r.Header("x-amz-copy-source") is not null);
        Assert.DoesNotContain(sent, r => r.Headers.Keys.Any(h => h.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(record.Sha256, (await harness.S3.ReadManifestAsync(name, CancellationToken.None))!.Sha256);
        await using (var read = await harness.S3.OpenReadAsync(name, CancellationToken.None))
        {
            Assert.Equal(record.Sha256, await SnapshotCatalog.VerifyStreamAsync(read, CancellationToken.None));
        }

        // What the status page shows of it (the storage check's detail).
        var health = await harness.S3.CheckHealthAsync(CancellationToken.None);
        Assert.True(health.Ok, health.Detail);
        Assert.Contains($"server-side encryption aws:kms (key {KmsKey})", health.Detail, StringComparison.Ordinal);
        Assert.Contains("Object Lock GOVERNANCE for 30d", health.Detail, StringComparison.Ordinal);
        var probe = Assert.Single(sent, r => r.Method == "PUT" && r.Path.Contains(".console-health-", StringComparison.Ordinal));
        Assert.Null(probe.Header("x-amz-object-lock-mode")); // a locked probe could not be removed
    }

    [Fact]
    public async Task With_sse_c_every_write_and_read_of_an_object_carries_the_key_which_shows_nowhere_else()
    {
        await using var s3 = await S3rver.StartAsync();
        var http = new RecordingS3Http();
        var customerKey = RandomNumberGenerator.GetBytes(32);
        var cluster = ClusterName.Parse("test");
        using var harness = new BackupHarness(new ClusterSpec(cluster, [new Uri("http://127.0.0.1:1")], null, null, []), s3: s3, s3Http: http, s3Settings: s => s with
        {
            ServerSideEncryption = new() { Method = S3ServerSideEncryptionSettings.CustomerProvided, CustomerKey = Convert.ToBase64String(customerKey) },
        });
        var store = harness.S3!;
        var name = SnapshotName.For(cluster, DateTimeOffset.UtcNow);
        var content = RandomNumberGenerator.GetBytes((6 * 1024 * 1024) + 12345);

        await using (var writer = await store.BeginWriteAsync(name, CancellationToken.None))
        {
            await writer.WriteAsync(content, CancellationToken.None);
            await writer.CompleteAsync(
                new SnapshotManifest { Cluster = cluster.Value, FileName = name.FileName, SizeBytes = content.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), Trigger = "test" },
                CancellationToken.None);
        }

        using var back = new MemoryStream();
        await using (var read = await store.OpenReadAsync(name, CancellationToken.None))
        {
            await read.CopyToAsync(back);
        }

        Assert.Equal(content, back.ToArray());
        Assert.Equal(name.FileName, (await store.ReadManifestAsync(name, CancellationToken.None))!.FileName);
        var health = await store.CheckHealthAsync(CancellationToken.None);
        await store.DeleteAsync(name, CancellationToken.None);

        var key = store.KeyOf(name);
        static bool Completes(SentRequest r) => r.Method == "POST" && r.Query.Contains("uploadId=", StringComparison.Ordinal);
        var forObjects = http.Sent.Where(r => (r.Path.EndsWith("/" + key, StringComparison.Ordinal) || r.Path.EndsWith("/" + key + SnapshotName.ManifestExtension, StringComparison.Ordinal))
            && r.Method is "PUT" or "GET" or "HEAD" or "POST" && !Completes(r)).ToList();
        Assert.Contains(forObjects, r => r.Method == "POST");                 // create multipart upload
        Assert.Contains(forObjects, r => r.Query.Contains("partNumber", StringComparison.Ordinal));
        Assert.Contains(forObjects, r => r.Method == "HEAD");                 // the size read back
        Assert.Equal(2, forObjects.Count(r => r.Method == "GET"));            // snapshot and manifest
        Assert.All(forObjects, r =>
        {
            Assert.Equal("AES256", r.Header("x-amz-server-side-encryption-customer-algorithm"));
            Assert.Equal(Convert.ToBase64String(customerKey), r.Header("x-amz-server-side-encryption-customer-key"));
            Assert.Equal(Md5(customerKey), r.Header("x-amz-server-side-encryption-customer-key-MD5"));
            Assert.Null(r.Header("x-amz-server-side-encryption"));
        });

        var secret = Convert.ToBase64String(customerKey);
        Assert.Contains("SSE-C (customer-provided key)", health.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, health.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, harness.Settings.Value.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(harness.Log.Lines, l => l.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Retention_keeps_a_copy_s3_refuses_to_delete_as_locked_and_the_backup_succeeds()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        var http = new RecordingS3Http();
        using var harness = new BackupHarness(Targets(etcd, 1), s3: s3, s3Http: http, s3Settings: s => Locked(s, "1d"));

        var first = await harness.BackupAsync();
        Assert.True(first.Status == BackupStatus.Succeeded, first.Error);
        Assert.True(SnapshotName.TryParse(first.FileName!, out var name));
        var key = harness.S3!.KeyOf(name);

        // What S3 answers a DELETE of a locked object version, body and all.
        http.Refuse(r => r.Is("DELETE", key) || r.Is("DELETE", key + SnapshotName.ManifestExtension), HttpStatusCode.Forbidden, "AccessDenied", "Access Denied");
        var second = await harness.BackupAsync();

        Assert.True(second.Status == BackupStatus.Succeeded, second.Error);
        var until = (name.TakenAt + TimeSpan.FromDays(1)).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        Assert.Contains($"kept {first.FileName}: locked in s3 until {until}", second.RetentionNote, StringComparison.Ordinal);
        Assert.DoesNotContain("retention failed", second.RetentionNote, StringComparison.Ordinal);
        Assert.Contains(http.Sent, r => r.Is("DELETE", key));
        var keys = (await harness.S3.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rver.Bucket })).S3Objects.Select(o => o.Key).ToHashSet();
        Assert.Contains(key, keys);
        Assert.Contains(key + SnapshotName.ManifestExtension, keys);
        var copy = Assert.Single(await harness.Ledger.CopiesAsync(first.Id, CancellationToken.None), c => c.Target == "s3");
        Assert.Equal(CopyStatus.Stored, copy.Status);

        // Once the lock lets go, the next pass deletes it as usual.
        http.ClearRefusals();
        var third = await harness.BackupAsync();
        Assert.Matches($@"deleted .*{System.Text.RegularExpressions.Regex.Escape(first.FileName!)} \(", third.RetentionNote);
        Assert.DoesNotContain("locked", third.RetentionNote, StringComparison.Ordinal);
        Assert.Equal(CopyStatus.Deleted, Assert.Single(await harness.Ledger.CopiesAsync(first.Id, CancellationToken.None), c => c.Target == "s3").Status);
    }

    [Fact]
    public async Task With_a_lock_configured_a_copy_s3_says_is_locked_is_not_even_asked_to_be_deleted()
    {
        await using var s3 = await S3rver.StartAsync();
        var http = new RecordingS3Http();
        var cluster = ClusterName.Parse("test");
        using var harness = new BackupHarness(new ClusterSpec(cluster, [new Uri("http://127.0.0.1:1")], null, null, []), s3: s3, s3Http: http, s3Settings: s => Locked(s, "1d"));
        var store = harness.S3!;
        var name = SnapshotName.For(cluster, DateTimeOffset.UtcNow);
        await store.PutSmallAsync(store.KeyOf(name), [1, 2, 3], CancellationToken.None);
        var until = new DateTimeOffset(2099, 3, 4, 5, 6, 7, TimeSpan.Zero);

        // What S3 answers a HEAD of an object under retention and a legal hold (s3rver knows neither).
        http.Answer(r => r.Is("HEAD", store.KeyOf(name)), () =>
        {
            var head = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([]) };
            head.Headers.Add("x-amz-object-lock-mode", "COMPLIANCE");
            head.Headers.Add("x-amz-object-lock-retain-until-date", "2099-03-04T05:06:07.000Z");
            head.Headers.Add("x-amz-object-lock-legal-hold", "ON");
            head.Headers.Add("x-amz-version-id", "v1");
            return head;
        });

        var refused = await Assert.ThrowsAsync<SnapshotRetainedException>(() => store.DeleteAsync(name, CancellationToken.None));

        Assert.Equal(until, refused.RetainUntil);
        Assert.True(refused.LegalHold);
        Assert.Equal($"kept {name.FileName}: under a legal hold in s3, locked until 2099-03-04 05:06:07Z", refused.Message);
        Assert.DoesNotContain(http.Sent, r => r.Method == "DELETE");
    }

    [Fact]
    public async Task A_delete_refused_for_want_of_permission_without_a_lock_is_still_a_retention_failure()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        var http = new RecordingS3Http();
        using var harness = new BackupHarness(Targets(etcd, 1), s3: s3, s3Http: http);
        var first = await harness.BackupAsync();
        Assert.True(SnapshotName.TryParse(first.FileName!, out var name));
        http.Refuse(r => r.Is("DELETE", harness.S3!.KeyOf(name)), HttpStatusCode.Forbidden, "AccessDenied", "Access Denied");

        var second = await harness.BackupAsync();

        Assert.True(second.Status == BackupStatus.Succeeded, second.Error);
        Assert.Contains("s3 retention failed (the backup itself succeeded): AccessDenied", second.RetentionNote, StringComparison.Ordinal);
        Assert.DoesNotContain("locked", second.RetentionNote, StringComparison.Ordinal);
    }
}
