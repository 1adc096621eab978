using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Backups;

/// <summary>
/// Retention keeps the ledger true: the copies it deletes, and the ones it finds gone from a store, are recorded as
/// Deleted; a store it could not list is left as the ledger has it. Real SQLite, a real local directory, s3rver.
/// </summary>
public sealed class RetentionPassTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static ClusterSpec Spec(int keep, params string[] targets) =>
        new ClusterSpec(ClusterName.Parse("test"), [new Uri("http://127.0.0.1:1")], null, null, [])
        {
            Backup = BackupPolicy.Default with { Targets = targets, Retention = new RetentionPolicy(keep, null) },
        };

    /// <summary>
    /// A recorded backup <paramref name="hoursAgo"/> before <see cref="Start"/>: its snapshot file (with our manifest)
    /// written to each of <paramref name="targets"/> through the store, and a Stored copy in the ledger for each.
    /// </summary>
    internal static async Task<BackupRecord> SnapshotAsync(BackupHarness harness, double hoursAgo, int size, params string[] targets)
    {
        var taken = Start.AddHours(-hoursAgo);
        var name = SnapshotName.For(harness.Cluster.Name, taken);
        var record = new BackupRecord { Cluster = harness.Cluster.Name.Value, Trigger = BackupTrigger.Scheduled, StartedAt = taken, RequestedBy = "test" };
        var id = await harness.Records.InsertRunningAsync(record, CancellationToken.None);
        record = record with { Id = id, Status = BackupStatus.Succeeded, FinishedAt = taken.AddSeconds(1), FileName = name.FileName, SizeBytes = size };
        await harness.Records.UpdateAsync(record, CancellationToken.None);
        foreach (var target in targets)
        {
            var writer = await harness.Stores.Get(target).BeginWriteAsync(name, CancellationToken.None);
            await using (writer)
            {
                await writer.WriteAsync(new byte[size], CancellationToken.None);
                await writer.CompleteAsync(new SnapshotManifest { Cluster = record.Cluster, FileName = name.FileName, SizeBytes = size, Sha256 = "00", Trigger = "Scheduled" }, CancellationToken.None);
                await harness.Ledger.SaveCopyAsync(new BackupCopy(id, target, CopyStatus.Stored, writer.Location, null, 1), taken, CancellationToken.None);
            }
        }

        return record;
    }

    internal static RetentionPass Pass(BackupHarness harness, TimeProvider clock) =>
        new(harness.Stores, harness.Ledger, clock, harness.Log.CreateLogger(nameof(RetentionPass)));

    private static async Task<CopyStatus> StatusAsync(BackupHarness harness, BackupRecord record, string target) =>
        (await harness.Ledger.CopiesAsync(record.Id, CancellationToken.None)).Single(c => c.Target == target).Status;

    private static async Task<string?> DetailAsync(BackupHarness harness, BackupRecord record, string target) =>
        (await harness.Ledger.CopiesAsync(record.Id, CancellationToken.None)).Single(c => c.Target == target).Error;

    [Fact]
    public async Task Copies_retention_deletes_are_recorded_as_deleted_in_each_target()
    {
        await using var s3 = await S3rver.StartAsync();
        using var harness = new BackupHarness(Spec(2, "local", "s3"), s3: s3);
        var clock = new ManualClock(Start);
        var records = new List<BackupRecord>();
        for (var i = 4; i >= 1; i--)
        {
            records.Add(await SnapshotAsync(harness, i, 100 * i, "local", "s3"));
        }

        var note = await Pass(harness, clock).RunAsync(harness.Cluster, records[^1].FileName);

        Assert.Contains($"s3 retention (keep newest 2): deleted {records[1].FileName} (beyond the newest 2), {records[0].FileName} (beyond the newest 2)", note, StringComparison.Ordinal);
        foreach (var target in new[] { "local", "s3" })
        {
            Assert.Equal(
                [CopyStatus.Deleted, CopyStatus.Deleted, CopyStatus.Stored, CopyStatus.Stored],
                await Task.WhenAll(records.Select(r => StatusAsync(harness, r, target))));
            Assert.Equal($"deleted by retention at {Start:u} (beyond the newest 2)", await DetailAsync(harness, records[0], target));
        }

        Assert.DoesNotContain("not in the store", note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_removed_behind_the_consoles_back_is_recorded_as_deleted_on_the_next_pass_and_as_stored_when_it_returns()
    {
        using var harness = new BackupHarness(Spec(7, "local"));
        var clock = new ManualClock(Start);
        var old = await SnapshotAsync(harness, 3, 10, "local");
        var removed = await SnapshotAsync(harness, 2, 20, "local");
        var newest = await SnapshotAsync(harness, 1, 30, "local");
        var aside = Path.Combine(harness.DataDir, "aside");
        Directory.CreateDirectory(aside);
        foreach (var file in new[] { removed.FileName!, removed.FileName + SnapshotName.ManifestExtension })
        {
            File.Move(Path.Combine(harness.Store.Directory, file), Path.Combine(aside, file));
        }

        var note = await Pass(harness, clock).RunAsync(harness.Cluster, newest.FileName);

        Assert.Equal(CopyStatus.Deleted, await StatusAsync(harness, removed, "local"));
        Assert.StartsWith($"not in the store at {Start:u}", await DetailAsync(harness, removed, "local"), StringComparison.Ordinal);
        Assert.Equal([CopyStatus.Stored, CopyStatus.Stored], [await StatusAsync(harness, old, "local"), await StatusAsync(harness, newest, "local")]);
        Assert.Contains($"local retention (keep newest 7): nothing to delete, 2 kept; 1 copy(ies) the ledger had as stored are not in the store", note, StringComparison.Ordinal);
        Assert.Contains(removed.FileName!, note, StringComparison.Ordinal);
        Assert.Contains("now recorded as deleted", harness.Log.Text, StringComparison.Ordinal);

        // Put back (a directory remounted, a file restored by hand): the next pass finds it and records it again.
        foreach (var file in Directory.GetFiles(aside))
        {
            File.Move(file, Path.Combine(harness.Store.Directory, Path.GetFileName(file)));
        }

        clock.Advance(TimeSpan.FromMinutes(10));
        var again = await Pass(harness, clock).RunAsync(harness.Cluster, newest.FileName);

        Assert.Equal(CopyStatus.Stored, await StatusAsync(harness, removed, "local"));
        Assert.Null(await DetailAsync(harness, removed, "local"));
        Assert.Contains("1 copy(ies) recorded as deleted are in the store again", again, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_target_whose_listing_fails_keeps_its_copies_as_recorded_while_the_others_are_settled()
    {
        await using var s3 = await S3rver.StartAsync();
        using var harness = new BackupHarness(Spec(1, "local", "s3"), s3: s3);
        var clock = new ManualClock(Start);
        var records = new List<BackupRecord>();
        for (var i = 3; i >= 1; i--)
        {
            records.Add(await SnapshotAsync(harness, i, 10 * i, "local", "s3"));
        }

        s3.Kill();
        var note = await Pass(harness, clock).RunAsync(harness.Cluster, records[^1].FileName);

        Assert.Contains("s3 retention failed (the backup itself succeeded)", note, StringComparison.Ordinal);
        Assert.Equal([CopyStatus.Stored, CopyStatus.Stored, CopyStatus.Stored], await Task.WhenAll(records.Select(r => StatusAsync(harness, r, "s3"))));
        Assert.Equal([CopyStatus.Deleted, CopyStatus.Deleted, CopyStatus.Stored], await Task.WhenAll(records.Select(r => StatusAsync(harness, r, "local"))));
    }

    [Fact]
    public async Task A_copy_stored_while_the_pass_was_listing_is_not_taken_for_missing()
    {
        using var harness = new BackupHarness(Spec(7, "local"));
        var clock = new ManualClock(Start);
        var newest = await SnapshotAsync(harness, 1, 30, "local");

        // An upload retry that finishes after the listing: recorded Stored later than the pass listed, file not in its listing.
        var late = await SnapshotAsync(harness, 2, 20);
        await harness.Ledger.SaveCopyAsync(new BackupCopy(late.Id, "local", CopyStatus.Stored, null, null, 2), Start.AddSeconds(1), CancellationToken.None);
        var gone = await SnapshotAsync(harness, 3, 10);
        await harness.Ledger.SaveCopyAsync(new BackupCopy(gone.Id, "local", CopyStatus.Stored, null, null, 1), Start.AddHours(-3), CancellationToken.None);

        await Pass(harness, clock).RunAsync(harness.Cluster, newest.FileName);

        Assert.Equal(CopyStatus.Stored, await StatusAsync(harness, late, "local"));
        Assert.Equal(CopyStatus.Deleted, await StatusAsync(harness, gone, "local"));
    }
}
