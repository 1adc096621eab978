using System.Diagnostics;
using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Backups;

public sealed class SnapshotPipelineTests
{
    [Fact]
    public async Task The_snapshot_is_byte_identical_to_etcdctl_snapshot_save_and_etcdctl_restores_it()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var harness = new BackupHarness(etcd.Spec());
        await harness.FillAsync(4);

        var record = await harness.BackupAsync();
        using var reference = new TestDirectory("etcdctl");
        var etcdctlFile = reference.Combine("etcdctl.db");
        etcd.Etcdctl("snapshot", "save", etcdctlFile);

        Assert.Equal(BackupStatus.Succeeded, record.Status);
        var ours = await File.ReadAllBytesAsync(record.Location!);
        Assert.Equal(await File.ReadAllBytesAsync(etcdctlFile), ours);
        Assert.Equal(ours.LongLength, record.SizeBytes);
        Assert.Equal(Convert.ToHexStringLower(ours.AsSpan(ours.Length - 32)), record.Sha256);

        var restored = reference.Combine("restored");
        var restore = Process.Start(new ProcessStartInfo("etcdctl", ["snapshot", "restore", record.Location!, "--data-dir", restored]) { RedirectStandardError = true, RedirectStandardOutput = true, Environment = { ["ETCDCTL_API"] = "3" } })!;
        var stderr = await restore.StandardError.ReadToEndAsync();
        await restore.WaitForExitAsync();
        Assert.True(restore.ExitCode == 0, stderr);
        Assert.True(Directory.Exists(Path.Combine(restored, "member", "snap")));
    }

    [Fact]
    public async Task A_succeeded_record_and_the_manifest_describe_the_file_and_nothing_partial_remains()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        etcd.Etcdctl("put", "/k", "v");
        using var harness = new BackupHarness(etcd.Spec());

        var record = await harness.BackupAsync();

        var stored = await harness.Records.GetAsync(record.Id, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(BackupStatus.Succeeded, stored.Status);
        Assert.Equal("m1", stored.Member);
        Assert.Equal("test", stored.RequestedBy);
        Assert.Equal(BackupTrigger.Manual, stored.Trigger);
        Assert.True(stored.Revision >= 2);
        Assert.StartsWith("3.4", stored.EtcdVersion, StringComparison.Ordinal);
        Assert.NotNull(stored.FinishedAt);
        Assert.True(SnapshotName.TryParse(stored.FileName!, out var name));
        var manifest = harness.Store.ReadManifest(name);
        Assert.NotNull(manifest);
        Assert.Equal(stored.Sha256, manifest.Sha256);
        Assert.Equal(stored.SizeBytes, manifest.SizeBytes);
        Assert.Equal("test", manifest.Cluster);
        Assert.Equal(stored.Sha256, await SnapshotVerifier.VerifyFileAsync(stored.Location!, CancellationToken.None));
        Assert.Empty(Directory.GetFiles(harness.Store.Directory, "*.part"));
    }

    [Fact]
    public async Task The_footer_check_rejects_a_flipped_byte_and_a_truncated_file()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var harness = new BackupHarness(etcd.Spec());
        var record = await harness.BackupAsync();
        using var scratch = new TestDirectory("corrupt");
        var bytes = await File.ReadAllBytesAsync(record.Location!);

        var flipped = scratch.Combine("flipped.db");
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(flipped, bytes);
        var mismatch = await Assert.ThrowsAsync<SnapshotIntegrityException>(() => SnapshotVerifier.VerifyFileAsync(flipped, CancellationToken.None));
        Assert.Contains("does not match its content", mismatch.Message, StringComparison.Ordinal);

        var truncated = scratch.Combine("truncated.db");
        await File.WriteAllBytesAsync(truncated, bytes.AsMemory(0, bytes.Length - 32).ToArray());
        var missing = await Assert.ThrowsAsync<SnapshotIntegrityException>(() => SnapshotVerifier.VerifyFileAsync(truncated, CancellationToken.None));
        Assert.Contains("no sha256 footer", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_follower_is_preferred_and_the_record_says_so()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(size: 3);
        using var harness = new BackupHarness(etcd.Spec());
        using var client = new EtcdClusterClient(etcd.Spec(), TimeSpan.FromSeconds(5));
        var leader = (await client.StatusAsync(etcd.Endpoints[0], CancellationToken.None)).Leader;
        var leaderName = (await client.ListMembersAsync(etcd.Endpoints[0], CancellationToken.None)).Single(m => m.Id == leader).Name;

        var record = await harness.BackupAsync();

        Assert.Equal(BackupStatus.Succeeded, record.Status);
        Assert.NotEqual(leaderName, record.Member);
        Assert.Contains("healthy follower", record.MemberNote, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Etcd_killed_mid_stream_fails_the_run_with_a_clear_error_and_keeps_earlier_snapshots_intact()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var harness = new BackupHarness(etcd.Spec());
        await harness.FillAsync(24);
        var earlier = await harness.BackupAsync();
        var earlierBytes = await File.ReadAllBytesAsync(earlier.Location!);

        // Freeze etcd the moment the first bytes arrive, then kill it: deterministically mid-stream.
        using var mid = harness.Progress.Subscribe(run =>
        {
            if (run.Phase == BackupPhase.Streaming && run.BytesReceived > 0 && !etcd.Members[0].HasExited)
            {
                etcd.Members[0].Pause();
                etcd.Members[0].Kill();
            }
        });
        var failed = await harness.BackupAsync();

        Assert.Equal(BackupStatus.Failed, failed.Status);
        Assert.Contains("was cut after", failed.Error, StringComparison.Ordinal);
        Assert.Null(failed.FileName);
        Assert.Equal([earlier.FileName], Directory.GetFiles(harness.Store.Directory, "*.db").Select(Path.GetFileName));
        Assert.Empty(Directory.GetFiles(harness.Store.Directory, "*.part"));
        Assert.Equal(earlierBytes, await File.ReadAllBytesAsync(earlier.Location!));
        Assert.Equal(BackupStatus.Failed, (await harness.Records.GetAsync(failed.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task A_paused_etcd_fails_the_run_on_the_idle_timeout_instead_of_hanging()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var harness = new BackupHarness(etcd.Spec(), e => e with { SnapshotIdleTimeout = TimeSpan.FromSeconds(1) });
        await harness.FillAsync(24);
        using var mid = harness.Progress.Subscribe(run =>
        {
            if (run.Phase == BackupPhase.Streaming && run.BytesReceived > 0)
            {
                etcd.Members[0].Pause();
            }
        });

        try
        {
            var failed = await harness.BackupAsync();

            Assert.Equal(BackupStatus.Failed, failed.Status);
            Assert.Contains("sent nothing for 1 s", failed.Error, StringComparison.Ordinal);
            Assert.Contains("idle timeout", failed.Error, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(harness.Store.Directory));
        }
        finally
        {
            etcd.Members[0].Resume();
        }
    }

    [Fact]
    public async Task Two_concurrent_requests_make_exactly_one_run()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var harness = new BackupHarness(etcd.Spec());
        await harness.FillAsync(8);

        var starts = await Task.WhenAll(
            Task.Run(() => harness.Runner.StartAsync("test", BackupTrigger.Manual, TestActors.Of("alice"), CancellationToken.None)),
            Task.Run(() => harness.Runner.StartAsync("test", BackupTrigger.Api, TestActors.Of("ci"), CancellationToken.None)));

        var started = Assert.Single(starts.OfType<BackupStart.Started>());
        var refused = Assert.Single(starts.OfType<BackupStart.AlreadyRunning>());
        Assert.Same(started.Run, refused.Run);
        await started.Run.Completion.WaitAsync(TimeSpan.FromMinutes(1));
        var all = await harness.Records.QueryAsync(new BackupQuery(), CancellationToken.None);
        Assert.Equal(1, all.Total);
        Assert.Single(Directory.GetFiles(harness.Store.Directory, "*.db"));
    }

    [Fact]
    public async Task Retention_runs_after_each_success_and_touches_only_our_files()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        var spec = etcd.Spec() with { Backup = Console.Domain.Clusters.BackupPolicy.Default with { Retention = new RetentionPolicy(2, null) } };
        using var harness = new BackupHarness(spec);
        Directory.CreateDirectory(harness.Store.Directory);
        var foreign = new[] { "notes.txt", "other_20200101T000000.000Z.db", "test_20200101T000000.000Z.db.bak", "other-cluster_20200101T000000.000Z.db" };
        foreach (var file in foreign)
        {
            await File.WriteAllTextAsync(Path.Combine(harness.Store.Directory, file), "not a snapshot of ours");
        }

        var records = new List<BackupRecord>();
        for (var i = 0; i < 3; i++)
        {
            records.Add(await harness.BackupAsync());
        }

        var remaining = Directory.GetFiles(harness.Store.Directory).Select(Path.GetFileName).ToHashSet();
        Assert.DoesNotContain(records[0].FileName, remaining);
        Assert.Contains(records[1].FileName, remaining);
        Assert.Contains(records[2].FileName, remaining);
        Assert.All(foreign, f => Assert.Contains(f, remaining));
        Assert.Contains($"deleted {records[0].FileName} (beyond the newest 2)", records[2].RetentionNote, StringComparison.Ordinal);
        Assert.DoesNotContain(records[0].FileName + ".json", remaining);
    }

    [Fact]
    public async Task The_snapshot_just_taken_is_kept_even_when_a_file_claims_to_be_newer()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        var spec = etcd.Spec() with { Backup = Console.Domain.Clusters.BackupPolicy.Default with { Retention = new RetentionPolicy(1, null) } };
        using var harness = new BackupHarness(spec);
        Directory.CreateDirectory(harness.Store.Directory);
        await File.WriteAllTextAsync(Path.Combine(harness.Store.Directory, "test_20990101T000000.000Z.db"), "from a host whose clock runs ahead");

        var record = await harness.BackupAsync();

        Assert.Equal(BackupStatus.Succeeded, record.Status);
        Assert.True(File.Exists(record.Location), record.RetentionNote);
    }

    [Fact]
    public async Task Look_alikes_without_a_manifest_are_set_aside_with_a_warning_and_never_displace_real_snapshots()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        var spec = etcd.Spec() with { Backup = Console.Domain.Clusters.BackupPolicy.Default with { Retention = new RetentionPolicy(2, null) } };
        using var harness = new BackupHarness(spec);
        Directory.CreateDirectory(harness.Store.Directory);
        var junk = new[] { "test_20990101T000000.000Z.db", "test_20990102T000000.000Z.db", "test_20990103T000000.000Z.db" };
        foreach (var file in junk)
        {
            await File.WriteAllBytesAsync(Path.Combine(harness.Store.Directory, file), System.Security.Cryptography.RandomNumberGenerator.GetBytes(4096));
        }

        var records = new List<BackupRecord>();
        for (var i = 0; i < 3; i++)
        {
            records.Add(await harness.BackupAsync());
        }

        var remaining = Directory.GetFiles(harness.Store.Directory).Select(Path.GetFileName).ToHashSet();
        Assert.All(records, r => Assert.Equal(BackupStatus.Succeeded, r.Status));
        Assert.DoesNotContain(records[0].FileName, remaining);
        Assert.Contains(records[1].FileName, remaining);
        Assert.Contains(records[2].FileName, remaining);
        Assert.All(junk, f => Assert.Contains(f, remaining));
        Assert.Contains($"deleted {records[0].FileName} (beyond the newest 2); 2 kept", records[2].RetentionNote, StringComparison.Ordinal);
        Assert.Contains("set aside 3 file(s) named like snapshots but without a manifest of ours", records[2].RetentionNote, StringComparison.Ordinal);
        Assert.Contains(harness.Log.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("set aside 3 file(s)", StringComparison.Ordinal) && l.Contains(junk[0], StringComparison.Ordinal));

        // The Snapshots page still lists them, without a manifest (so unverified), and rebuilding history skips them.
        var listed = await harness.Snapshots.ListAsync(null, CancellationToken.None);
        Assert.All(junk, f => Assert.Null(Assert.Single(listed, e => e.Name.FileName == f).Manifest));
        Assert.Equal(0, await harness.Snapshots.RebuildHistoryAsync(TestActors.Of("test"), CancellationToken.None));
    }

    [TmpfsFact]
    public async Task A_full_disk_fails_the_run_leaves_no_file_behind_and_the_storage_health_says_so_at_once()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var harness = new BackupHarness(etcd.Spec());
        using var disk = Tmpfs.Mount(harness.Store.Directory, 8);
        await harness.FillAsync(12);
        await harness.StorageHealth.CheckNowAsync(CancellationToken.None);
        Assert.True(harness.StorageHealth.Current["local"].Ok, harness.StorageHealth.Current["local"].Detail);
        var freeBefore = disk.FreeBytes;

        // Each retry fails the same way and must leave nothing behind either.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var checkedBefore = harness.StorageHealth.Current["local"].CheckedAt;
            var failed = await harness.BackupAsync();

            Assert.Equal(BackupStatus.Failed, failed.Status);
            Assert.Contains("No space left on device", failed.Error, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(harness.Store.Directory));
            Assert.Equal(freeBefore, disk.FreeBytes);

            // Refreshed before the failed record was handed out, not up to a minute later.
            var health = harness.StorageHealth.Current["local"];
            Assert.True(health.CheckedAt > checkedBefore);
            Assert.False(health.Ok);
            Assert.Contains("the next one will not fit", health.Detail, StringComparison.Ordinal);
        }

        await harness.StorageHealth.CheckNowAsync(CancellationToken.None);
        Assert.Empty(Directory.GetFileSystemEntries(harness.Store.Directory));
    }

    [Fact]
    public async Task A_prune_failure_is_noted_on_the_record_but_the_backup_still_succeeds()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        var spec = etcd.Spec() with { Backup = Console.Domain.Clusters.BackupPolicy.Default with { Retention = new RetentionPolicy(1, null) } };
        using var harness = new BackupHarness(spec);
        Directory.CreateDirectory(harness.Store.Directory);
        var old = "test_20200101T000000.000Z.db";
        await File.WriteAllTextAsync(Path.Combine(harness.Store.Directory, old), "an old snapshot");

        // Known to the ledger, so retention counts it and tries to delete it.
        await harness.Records.InsertFinishedAsync(new BackupRecord { Cluster = "test", StartedAt = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), Status = BackupStatus.Succeeded, FileName = old }, CancellationToken.None);

        // A directory where the old snapshot's manifest should be: deleting it fails like a read-only mount would.
        Directory.CreateDirectory(Path.Combine(harness.Store.Directory, old + ".json", "in-the-way"));

        var record = await harness.BackupAsync();

        Assert.Equal(BackupStatus.Succeeded, record.Status);
        Assert.Contains("local retention failed (the backup itself succeeded)", record.RetentionNote, StringComparison.Ordinal);
        Assert.True(File.Exists(record.Location));
        Assert.Equal(record.RetentionNote, (await harness.Records.GetAsync(record.Id, CancellationToken.None))!.RetentionNote);
    }

    [Fact]
    public async Task Start_up_marks_running_records_interrupted_and_removes_only_our_partial_files()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var harness = new BackupHarness(etcd.Spec());
        var id = await harness.Records.InsertRunningAsync(new BackupRecord { Cluster = "test", StartedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        Directory.CreateDirectory(harness.Store.Directory);
        var ours = Path.Combine(harness.Store.Directory, "test_20260101T000000.000Z.db.part");
        var theirs = Path.Combine(harness.Store.Directory, "download.part");
        await File.WriteAllTextAsync(ours, "half a snapshot");
        await File.WriteAllTextAsync(theirs, "someone else's");

        await new BackupStartup(harness.Database, new BackupOverrideStore(harness.Database), harness.Catalog, harness.Store, harness.Runner, harness.Monitor, Microsoft.Extensions.Logging.Abstractions.NullLogger<BackupStartup>.Instance).StartAsync(CancellationToken.None);

        var record = await harness.Records.GetAsync(id, CancellationToken.None);
        Assert.Equal(BackupStatus.Interrupted, record!.Status);
        Assert.Contains("console stopped", record.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(ours));
        Assert.True(File.Exists(theirs));
    }

    [Fact]
    public async Task An_unreachable_cluster_fails_the_run_with_the_reason()
    {
        var port = Console.Infrastructure.Sandbox.FreePorts.Pick(1)[0];
        var spec = new Console.Domain.Clusters.ClusterSpec(Console.Domain.Clusters.ClusterName.Parse("test"), [new Uri($"http://127.0.0.1:{port}")], null, null, []);
        using var harness = new BackupHarness(spec);

        var record = await harness.BackupAsync();

        Assert.Equal(BackupStatus.Failed, record.Status);
        Assert.Contains("connection refused", record.Error, StringComparison.Ordinal);
    }
}
