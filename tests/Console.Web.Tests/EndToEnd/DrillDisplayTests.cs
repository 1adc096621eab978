using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

/// <summary>
/// Where drill verdicts and re-verification show, in a real browser: the status table's "last drill" (a failed one makes
/// the row red) and each copy's verdict on the Snapshots page. Verdicts are written to the real ledger (the drill engine
/// is not what this is about); screenshots for a look at the pages.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DrillDisplayTests(Browser browser)
{
    [Fact]
    public async Task The_status_table_and_the_snapshots_page_show_each_verdict()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        var settings = new Dictionary<string, string?>(TestTokens.Cluster(etcd))
        {
            ["Console:Clusters:0:Backup:Enabled"] = "true",
            ["Console:Clusters:0:Backup:Interval"] = "1h",
            ["Console:Clusters:0:Backup:Targets:0"] = "local",
        };
        await using var app = ConsoleApp.Start(settings);
        var records = app.Services.GetRequiredService<BackupRecordStore>();
        var first = (await Eventually.ValueAsync(() => records.QueryAsync(new BackupQuery("test"), CancellationToken.None), p => p.Items.Any(r => r.Status == BackupStatus.Succeeded), TimeSpan.FromSeconds(60))).Items[0];
        await Eventually.ValueAsync(() => Task.FromResult(app.Services.GetRequiredService<BackupRunner>().RunningFor("test")), r => r is null, TimeSpan.FromSeconds(60));
        var second = await app.Services.GetRequiredService<BackupRunner>().RunAsync("test", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        Assert.True(second.Status == BackupStatus.Succeeded, second.Error);

        // The older copy passed its drill; the newer one failed it, and a re-verification found the older one altered since.
        var drills = app.Services.GetRequiredService<DrillLedger>();
        var now = DateTimeOffset.UtcNow;
        var passed = new DrillVerdict { Cluster = "test", FileName = first.FileName!, Target = "local", StartedAt = now.AddMinutes(-9), BackupId = first.Id };
        await drills.FinishAsync(passed with { Id = await drills.StartAsync(passed, CancellationToken.None), Outcome = DrillOutcome.Passed, Revision = first.Revision, KeyCount = 3, Rto = TimeSpan.FromSeconds(1.8), FinishedAt = now.AddMinutes(-8), Reason = "revision, keys and canary as recorded" }, CancellationToken.None);
        var failed = passed with { FileName = second.FileName!, BackupId = second.Id, StartedAt = now.AddMinutes(-2) };
        await drills.FinishAsync(failed with { Id = await drills.StartAsync(failed, CancellationToken.None), Outcome = DrillOutcome.Failed, FinishedAt = now.AddMinutes(-1), Reason = "the restored member reports revision 7, the record says 9" }, CancellationToken.None);
        await app.Services.GetRequiredService<SnapshotLedger>().RecordVerificationAsync(
            new Verification(first.FileName!, "local", now, false, "the footer's sha256 does not match its content", SnapshotCatalog.ReverificationBy), CancellationToken.None);

        await using var session = await browser.OpenAsync(app, "");
        var page = session.Page;
        var row = page.Locator("[data-testid=backup-status-row][data-cluster=test]");
        await Expect(row).ToHaveAttributeAsync("data-proof", "Failing", new() { Timeout = 30_000 });
        await Expect(row.Locator("[data-testid=last-drill]")).ToHaveAttributeAsync("data-state", "Failed");
        await Expect(row.Locator("[data-testid=drill-reason]")).ToContainTextAsync("the record says 9");
        await Expect(row.Locator("[data-testid=drill-rto]")).ToContainTextAsync("RTO 1.8 s (last pass");
        await Expect(row.Locator("[data-testid=verification-problem]")).ToContainTextAsync("1 copy failed re-verification");
        await Browser.ScreenshotAsync(page, "status-drills");

        await page.GotoAsync(new Uri(app.Address, "snapshots").ToString());
        var older = page.Locator($"[data-testid=snapshot-row][data-file='{first.FileName}'] [data-testid=snapshot-copy][data-target=local]");
        var newer = page.Locator($"[data-testid=snapshot-row][data-file='{second.FileName}'] [data-testid=snapshot-copy][data-target=local]");
        await Expect(older.Locator("[data-testid=drill-verdict]")).ToHaveAttributeAsync("data-state", "Passed");
        await Expect(older.Locator("[data-testid=drill-verdict]")).ToContainTextAsync("RTO 1.8 s");
        await Expect(older.Locator("[data-testid=verification]")).ToHaveAttributeAsync("data-state", "Error");
        await Expect(newer.Locator("[data-testid=drill-verdict]")).ToHaveAttributeAsync("data-state", "Failed");
        await Expect(newer.Locator("[data-testid=drill]")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "snapshots-drills");
    }

    /// <summary>
    /// The whole path as an operator takes it: Drill on the Snapshots page runs the real drill service (the copy fetched,
    /// restored into a throwaway etcd, started and checked), and the verdict and its RTO show on the page and on the
    /// status table. The Settings page's Alerts card shows a webhook channel by its host only.
    /// </summary>
    [Fact]
    public async Task Drill_on_the_snapshots_page_runs_a_real_drill_and_its_verdict_shows_everywhere()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        const string token = "T0KEN-do-not-show";
        var settings = new Dictionary<string, string?>(TestTokens.Cluster(etcd))
        {
            ["Console:Clusters:0:Backup:Enabled"] = "true",
            ["Console:Clusters:0:Backup:Interval"] = "1h",
            ["Console:Clusters:0:Backup:Targets:0"] = "local",
            ["Console:Clusters:0:Backup:Drill:Enabled"] = "true",
            ["Console:Clusters:0:Backup:Drill:Every"] = "2", // the first backup is not drilled by itself: the button does it
            ["Console:Alerts:Channels:0:Name"] = "ops-hook",
            ["Console:Alerts:Channels:0:Kind"] = "webhook",
            ["Console:Alerts:Channels:0:Url"] = $"http://127.0.0.1:9/hooks/{token}",
        };
        await using var app = ConsoleApp.Start(settings);
        var records = app.Services.GetRequiredService<BackupRecordStore>();
        var first = (await Eventually.ValueAsync(() => records.QueryAsync(new BackupQuery("test"), CancellationToken.None), p => p.Items.Any(r => r.Status == BackupStatus.Succeeded), TimeSpan.FromSeconds(60))).Items[0];

        await using var session = await browser.OpenAsync(app, "snapshots");
        var page = session.Page;
        var copy = page.Locator($"[data-testid=snapshot-row][data-file='{first.FileName}'] [data-testid=snapshot-copy][data-target=local]");
        await Expect(copy.Locator("[data-testid=drill-verdict]")).ToHaveAttributeAsync("data-state", "NotDrilled", new() { Timeout = 30_000 });
        await copy.Locator("[data-testid=drill]").ClickAsync();
        await Expect(copy.Locator("[data-testid=drill-verdict]")).ToHaveAttributeAsync("data-state", "Passed", new() { Timeout = 120_000 });
        await Expect(copy.Locator("[data-testid=drill-verdict]")).ToContainTextAsync("RTO");
        await Browser.ScreenshotAsync(page, "snapshots-drill-passed");

        var verdict = (await app.Services.GetRequiredService<DrillLedger>().HistoryAsync(first.FileName!, "local", CancellationToken.None)).Single();
        Assert.Equal((DrillOutcome.Passed, first.Id), (verdict.Outcome, verdict.BackupId));
        Assert.True(verdict.Rto > TimeSpan.Zero, "the drill measured its RTO");
        Assert.Contains(first.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), verdict.Canary, StringComparison.Ordinal);

        await page.GotoAsync(app.Address.ToString());
        var row = page.Locator("[data-testid=backup-status-row][data-cluster=test]");
        await Expect(row.Locator("[data-testid=last-drill]")).ToHaveAttributeAsync("data-state", "Passed", new() { Timeout = 30_000 });
        await Expect(row.Locator("[data-testid=drill-rto]")).ToContainTextAsync("RTO");
        await Browser.ScreenshotAsync(page, "status-drill-passed");

        await page.GotoAsync(new Uri(app.Address, "settings").ToString());
        await Expect(page.Locator("[data-testid=effective-drill]")).ToContainTextAsync("every copy of every 2nd full snapshot is restored and checked");
        var channel = page.Locator("[data-testid=alert-channel][data-channel=ops-hook]");
        await Expect(channel).ToContainTextAsync("127.0.0.1");
        Assert.DoesNotContain(token, await page.ContentAsync(), StringComparison.Ordinal);
        await Browser.ScreenshotAsync(page, "settings-alerts");
    }
}
