using Console.Domain.Backups;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

[Collection(BrowserCollection.Name)]
public sealed class SnapshotsPageTests(Browser browser)
{
    [Fact]
    public async Task Verify_and_download_every_copy_and_a_corrupted_copy_is_caught()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        var settings = s3.ConfigurationKeys();
        foreach (var (key, value) in TestTokens.Cluster(etcd))
        {
            settings[key] = value;
        }

        settings["Console:Clusters:0:Backup:Enabled"] = "true";
        settings["Console:Clusters:0:Backup:Interval"] = "1h";
        settings["Console:Clusters:0:Backup:Targets:0"] = "local";
        settings["Console:Clusters:0:Backup:Targets:1"] = "s3";
        await using var app = ConsoleApp.Start(settings);

        // The cluster has backups enabled and none yet: the console takes one at start, to both targets.
        var records = app.Services.GetRequiredService<BackupRecordStore>();
        var record = (await Eventually.ValueAsync(() => records.QueryAsync(new BackupQuery("test"), CancellationToken.None), p => p.Items.Any(r => r.Status == BackupStatus.Succeeded), TimeSpan.FromSeconds(60))).Items[0];
        await using var session = await browser.OpenAsync(app, "snapshots");
        var page = session.Page;
        var row = page.Locator($"[data-testid=snapshot-row][data-file='{record.FileName}']");
        await Expect(row.Locator("[data-testid=snapshot-copy]")).ToHaveCountAsync(2);

        foreach (var target in new[] { "local", "s3" })
        {
            var copy = row.Locator($"[data-testid=snapshot-copy][data-target={target}]");
            await copy.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
            await Expect(copy.Locator("[data-testid=verification]")).ToHaveAttributeAsync("data-state", "Ok", new() { Timeout = 30_000 });
            await Expect(copy.Locator("[data-testid=verification]")).ToContainTextAsync("matches the footer and the manifest");

            var download = await page.RunAndWaitForDownloadAsync(() => copy.GetByRole(AriaRole.Link, new() { Name = "Download" }).ClickAsync());
            using var saved = new TestDirectory("download");
            var path = Path.Combine(saved.Path, download.SuggestedFilename);
            await download.SaveAsAsync(path);
            Assert.Equal(record.FileName, download.SuggestedFilename);
            Assert.Equal(record.Sha256, await Console.Infrastructure.Etcd.SnapshotVerifier.VerifyFileAsync(path, CancellationToken.None));
        }

        // Corrupt the local copy behind the console's back: Verify must say so.
        var local = app.Services.GetRequiredService<LocalSnapshotStore>();
        Assert.True(SnapshotName.TryParse(record.FileName!, out var name));
        var bytes = await File.ReadAllBytesAsync(local.PathOf(name));
        bytes[bytes.Length / 2] ^= 0xff;
        await File.WriteAllBytesAsync(local.PathOf(name), bytes);
        var localCopy = row.Locator("[data-testid=snapshot-copy][data-target=local]");
        await localCopy.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        await Expect(localCopy.Locator("[data-testid=verification]")).ToHaveAttributeAsync("data-state", "Error", new() { Timeout = 30_000 });
        await Expect(localCopy.Locator("[data-testid=verification]")).ToContainTextAsync("does not match its content");
        await Expect(page.GetByText($"local copy of {record.FileName} is NOT valid")).ToBeVisibleAsync();

        await row.GetByRole(AriaRole.Button, new() { Name = "Protect" }).ClickAsync();
        await Expect(row).ToHaveAttributeAsync("data-state", "Protected");
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Unprotect" })).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "snapshots");

        // S3 dies: Download on its copy lands on the error page, which says what failed and gives a request id to quote,
        // rather than a download that fails in the browser's download list with no words.
        s3.Kill();
        await row.Locator("[data-testid=snapshot-copy][data-target=s3]").GetByRole(AriaRole.Link, new() { Name = "Download" }).ClickAsync();
        await page.WaitForURLAsync($"**/snapshots/download/s3/{record.FileName}");
        await Expect(page).ToHaveTitleAsync(new System.Text.RegularExpressions.Regex("Something went wrong"));
        await Expect(page.Locator("[data-testid=error-detail]")).ToContainTextAsync($"s3://{S3rver.Bucket}/etcd/test/{record.FileName}");
        await Expect(page.Locator("[data-testid=error-detail]")).ToContainTextAsync("reach");
        await Expect(page.Locator("[data-testid=request-id]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"\S{8,}"));
        var text = await page.Locator("body").InnerTextAsync();
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Console.", text, StringComparison.Ordinal);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Back to the cluster status" })).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "error-page");
    }
}
