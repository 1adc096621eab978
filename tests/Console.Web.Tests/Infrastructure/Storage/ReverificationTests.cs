using Bunit;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Replicas;
using Console.Infrastructure.Storage;
using Console.Web.Components.Pages.Restore;
using Console.Web.Tests.Fixtures;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace Console.Web.Tests.Infrastructure.Storage;

/// <summary>
/// The periodic re-verification against real stores (a local directory and s3rver) with snapshots of a real etcd: copies
/// altered after upload fail with the reason, the status table hears of them, and the wizard does not pre-select them.
/// </summary>
public sealed class ReverificationTests
{
    private static ReverificationService Service(BackupHarness harness, string every = "1.00:00:00") => new(
        harness.Snapshots,
        new ConsoleStateStore(harness.Database),
        new ClusterBackupLocks(harness.Database),
        Options.Create(harness.Settings.Value with { Verification = new VerificationSettings { Every = every } }),
        TimeProvider.System,
        NullLogger<ReverificationService>.Instance);

    private static SnapshotName NameOf(BackupRecord record) => SnapshotName.TryParse(record.FileName!, out var name) ? name : throw new InvalidOperationException(record.FileName);

    [Fact]
    public async Task A_copy_altered_after_upload_fails_re_verification_with_the_reason_and_the_wizard_does_not_pre_select_it()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        using var harness = new BackupHarness(etcd.Spec() with { Backup = BackupPolicy.Default with { Targets = ["local", "s3"] } }, s3: s3);
        var sound = NameOf(await harness.BackupAsync());
        etcd.Etcdctl("put", "/halfway", "1");
        var halfway = NameOf(await harness.BackupAsync());
        etcd.Etcdctl("put", "/rotten", "1");
        var rotten = NameOf(await harness.BackupAsync());

        // The newest: a bit flipped on disk, and the S3 object replaced by those bytes. The one before: only its S3
        // object replaced, by another valid snapshot (the oldest), which only the manifest's sha256 can tell.
        var bytes = await File.ReadAllBytesAsync(harness.Store.PathOf(rotten));
        bytes[bytes.Length / 2] ^= 0x08;
        await File.WriteAllBytesAsync(harness.Store.PathOf(rotten), bytes);
        await harness.S3!.PutSmallAsync(harness.S3.KeyOf(rotten), bytes, CancellationToken.None);
        await harness.S3.PutSmallAsync(harness.S3.KeyOf(halfway), await File.ReadAllBytesAsync(harness.Store.PathOf(sound)), CancellationToken.None);

        var results = await Service(harness).PassAsync(CancellationToken.None);

        Assert.Equal(6, results.Count);
        Assert.All(results, v => Assert.Equal(SnapshotCatalog.ReverificationBy, v.VerifiedBy));
        Assert.Equal(
            [$"{halfway.FileName}/s3", $"{rotten.FileName}/local", $"{rotten.FileName}/s3"],
            results.Where(v => !v.Ok).Select(v => $"{v.FileName}/{v.Target}").Order(StringComparer.Ordinal));
        Assert.All(results.Where(v => v.FileName == rotten.FileName), v => Assert.Contains("does not match its content", v.Detail, StringComparison.Ordinal));
        Assert.Contains("not the snapshot that was recorded", results.Single(v => v.FileName == halfway.FileName && v.Target == "s3").Detail, StringComparison.Ordinal);

        // The status table's count, and the copies as the Snapshots page and the wizard read them.
        Assert.Equal(3, (await harness.Ledger.FailedVerificationsAsync(CancellationToken.None)).Count);
        var entries = await harness.Snapshots.ListAsync(null, CancellationToken.None);
        Assert.Equal([rotten.FileName, halfway.FileName, sound.FileName], entries.Select(e => e.Name.FileName));
        Assert.Null(entries[0].SoundCopy);
        Assert.Equal("local", entries[1].RestoreCopy.Target);
        Assert.StartsWith("its last verification failed: ", entries[0].Copies[0].Failure, StringComparison.Ordinal);

        using var page = new BunitContext();
        page.Services.AddMudServices();
        page.JSInterop.Mode = JSRuntimeMode.Loose;
        page.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        var list = page.Render<CandidateList>(p => p.Add(c => c.Candidates, entries).Add(c => c.Now, DateTimeOffset.UtcNow));
        var selected = list.FindAll("tr[data-testid=candidate]").Single(r => r.QuerySelector("input")!.HasAttribute("checked"));
        Assert.Equal(halfway.FileName, selected.GetAttribute("data-file"));
        Assert.Equal("Failed", list.Find($"tr[data-file='{rotten.FileName}']").GetAttribute("data-state"));

        // A copy put right is found good by the next pass and stops counting.
        await harness.S3.PutSmallAsync(harness.S3.KeyOf(halfway), await File.ReadAllBytesAsync(harness.Store.PathOf(halfway)), CancellationToken.None);
        await Service(harness).PassAsync(CancellationToken.None);
        Assert.Equal([rotten.FileName, rotten.FileName], (await harness.Ledger.FailedVerificationsAsync(CancellationToken.None)).Select(v => v.FileName));
    }

    [Fact]
    public async Task The_service_runs_a_first_pass_at_start_and_records_when_and_off_runs_none()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var harness = new BackupHarness(etcd.Spec());
        var name = NameOf(await harness.BackupAsync());
        var state = new ConsoleStateStore(harness.Database);

        using (var off = Service(harness, "off"))
        {
            await off.StartAsync(CancellationToken.None);
            await off.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.Empty(await harness.Ledger.LatestVerificationsAsync(CancellationToken.None));
        Assert.Null(await state.GetAsync("reverification:last-pass", CancellationToken.None));

        using var daily = Service(harness);
        await daily.StartAsync(CancellationToken.None);
        var verified = await Eventually.ValueAsync(() => harness.Ledger.LatestVerificationsAsync(CancellationToken.None), v => v.Count > 0, TimeSpan.FromSeconds(30));
        await daily.StopAsync(CancellationToken.None);

        Assert.True(verified[(name.FileName, "local")].Ok, verified[(name.FileName, "local")].Detail);
        Assert.Equal(SnapshotCatalog.ReverificationBy, verified[(name.FileName, "local")].VerifiedBy);
        Assert.NotNull(await state.GetAsync("reverification:last-pass", CancellationToken.None));
    }
}
