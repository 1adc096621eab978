using System.Diagnostics;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.Options;

namespace Console.Web.Tests.Infrastructure.Storage;

public sealed class LocalSnapshotStoreTests
{
    private static readonly ClusterName Test = ClusterName.Parse("test");

    private static LocalSnapshotStore StoreIn(string directory) =>
        new(Options.Create(new ConsoleSettings { DataDir = directory, Storage = new StorageSettings { Local = new LocalStorageSettings { Dir = directory } } }));

    [Fact]
    public async Task Starting_beside_a_live_writer_removes_only_the_parts_nobody_is_writing()
    {
        // Replicas may share one snapshot directory: one that starts while another streams must not delete that part.
        using var scratch = new TestDirectory("leftovers");
        var store = StoreIn(scratch.Path);
        using var live = store.BeginWrite(SnapshotName.For(Test, DateTimeOffset.UtcNow));
        await live.WriteAsync(new byte[4096], CancellationToken.None);
        var dead = Path.Combine(scratch.Path, SnapshotName.For(Test, DateTimeOffset.UtcNow.AddHours(-1)).PartialFileName);
        await File.WriteAllTextAsync(dead, "a run whose console was killed");

        var removed = store.RemoveLeftovers();

        Assert.Equal([Path.GetFileName(dead)], removed);
        Assert.True(File.Exists(live.PartialPath));
        Assert.False(File.Exists(dead));
    }

    [Fact]
    public async Task A_delta_segment_left_half_written_by_a_crash_is_removed_and_a_whole_one_kept()
    {
        using var scratch = new TestDirectory("segment-leftovers");
        var store = StoreIn(scratch.Path);
        Directory.CreateDirectory(store.SegmentDirectory);
        var whole = Path.Combine(store.SegmentDirectory, new DeltaSegmentName(Test, 11, 20).FileName);
        var half = Path.Combine(store.SegmentDirectory, new DeltaSegmentName(Test, 21, 30).PartialFileName);
        var foreign = Path.Combine(store.SegmentDirectory, "notes.part");
        await File.WriteAllTextAsync(whole, "a stored segment");
        await File.WriteAllTextAsync(half, "a segment whose console was killed mid-write");
        await File.WriteAllTextAsync(foreign, "not ours");

        var removed = store.RemoveLeftovers();

        Assert.Equal([Path.Combine(DeltaSegmentName.Folder, Path.GetFileName(half))], removed);
        Assert.False(File.Exists(half));
        Assert.True(File.Exists(whole));
        Assert.True(File.Exists(foreign));
    }

    [TmpfsFact]
    public async Task The_health_probe_leaves_no_file_behind_when_the_disk_is_full()
    {
        using var scratch = new TestDirectory("health");
        using var disk = Tmpfs.Mount(scratch.Combine("snapshots"), 1);
        var store = StoreIn(disk.Directory);
        disk.FillUp("filler");

        var health = await store.CheckHealthAsync(CancellationToken.None);

        Assert.False(health.Ok);
        Assert.Contains("No space left on device", health.Detail, StringComparison.Ordinal);
        Assert.Equal(["filler"], Directory.GetFileSystemEntries(disk.Directory).Select(Path.GetFileName));
    }

    [TmpfsFact]
    public async Task A_write_that_runs_out_of_space_leaves_no_part_file_and_gives_the_space_back()
    {
        using var scratch = new TestDirectory("full");
        using var disk = Tmpfs.Mount(scratch.Combine("snapshots"), 4);
        var store = StoreIn(disk.Directory);
        var freeBefore = disk.FreeBytes;
        var writer = store.BeginWrite(SnapshotName.For(Test, DateTimeOffset.UtcNow));

        var full = await Assert.ThrowsAsync<IOException>(async () =>
        {
            var chunk = new byte[32 * 1024];
            while (true)
            {
                await writer.WriteAsync(chunk, CancellationToken.None);
            }
        });
        await writer.DisposeAsync();

        Assert.Contains("No space left on device", full.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(disk.Directory));
        Assert.Equal(freeBefore, disk.FreeBytes);
    }

    [Fact]
    public async Task Links_and_fifos_named_like_snapshots_are_never_listed_read_verified_or_deleted()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        var spec = etcd.Spec() with { Backup = BackupPolicy.Default with { Retention = new RetentionPolicy(1, null) } };
        using var harness = new BackupHarness(spec);
        using var outside = new TestDirectory("outside");
        var shadow = outside.Combine("shadow");
        await File.WriteAllTextAsync(shadow, "root:$6$not-for-operators:19000:0:99999:7:::\n");
        var store = harness.Store;
        Directory.CreateDirectory(store.Directory);
        var toShadow = SnapshotName.For(Test, new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var toDatabase = SnapshotName.For(Test, new DateTimeOffset(2020, 1, 2, 0, 0, 0, TimeSpan.Zero));
        var fifo = SnapshotName.For(Test, new DateTimeOffset(2020, 1, 3, 0, 0, 0, TimeSpan.Zero));
        File.CreateSymbolicLink(store.PathOf(toShadow), shadow);
        File.CreateSymbolicLink(store.PathOf(toDatabase), harness.Database.FilePath!);
        Mkfifo(store.PathOf(fifo));

        // Manifests of ours beside them, so retention would count them (and delete them) if it ever saw them.
        foreach (var name in new[] { toShadow, toDatabase, fifo })
        {
            await File.WriteAllBytesAsync(Path.Combine(store.Directory, name.ManifestFileName), new SnapshotManifest { Cluster = "test", FileName = name.FileName, SizeBytes = 1, Sha256 = "00", Trigger = "Manual" }.ToUtf8());
        }

        var shadowBefore = await File.ReadAllBytesAsync(shadow);
        var databaseBefore = new FileInfo(harness.Database.FilePath!).Length;
        var planted = new[] { toShadow, toDatabase, fifo };

        Assert.Empty(store.List());
        Assert.Empty(await harness.Snapshots.ListAsync(null, CancellationToken.None));
        foreach (var name in planted)
        {
            var why = name == fifo ? "not a regular file" : "symbolic link";
            var download = await Assert.ThrowsAsync<IOException>(() => harness.Snapshots.OpenForDownloadAsync("local", name, opened: false, TestActors.Of("test"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains(why, download.Message, StringComparison.Ordinal);
            var verify = await harness.Snapshots.VerifyAsync("local", name, TestActors.Of("test"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.False(verify.Ok);
            Assert.Contains(why, verify.Detail, StringComparison.Ordinal);
            Assert.Contains("not a regular file", Assert.Throws<IOException>(() => store.Delete(name)).Message, StringComparison.Ordinal);
        }

        var first = await harness.BackupAsync();
        var second = await harness.BackupAsync();

        Assert.Equal(BackupStatus.Succeeded, second.Status);
        Assert.Equal([second.FileName], store.List().Select(s => s.Name.FileName));

        // Retention ran twice with "keep newest 1": the first real snapshot went, every planted entry stayed.
        Assert.False(File.Exists(first.Location));
        Assert.Contains($"deleted {first.FileName}", second.RetentionNote, StringComparison.Ordinal);
        Assert.All(planted, name => Assert.True(Path.Exists(store.PathOf(name)) || new FileInfo(store.PathOf(name)).LinkTarget is not null, $"{name} was removed"));
        Assert.Equal(shadow, new FileInfo(store.PathOf(toShadow)).LinkTarget);
        Assert.Equal(shadowBefore, await File.ReadAllBytesAsync(shadow));
        Assert.True(new FileInfo(harness.Database.FilePath!).Length >= databaseBefore);
        Assert.NotNull(await harness.Records.GetAsync(second.Id, CancellationToken.None));
    }

    [Fact]
    public void A_link_at_a_manifest_name_is_not_read_as_a_manifest()
    {
        using var directory = new TestDirectory("manifest-link");
        using var outside = new TestDirectory("outside");
        var store = StoreIn(directory.Path);
        var name = SnapshotName.For(Test, DateTimeOffset.UtcNow);
        var real = outside.Combine("manifest.json");
        File.WriteAllBytes(real, new SnapshotManifest { Cluster = "test", FileName = name.FileName, SizeBytes = 1, Sha256 = "00", Trigger = "Manual" }.ToUtf8());
        File.CreateSymbolicLink(Path.Combine(directory.Path, name.ManifestFileName), real);

        Assert.Null(store.ReadManifest(name));
    }

    private static void Mkfifo(string path)
    {
        using var process = Process.Start("mkfifo", [path]);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }
}
