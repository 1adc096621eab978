using System.Security.Cryptography;
using Console.Domain.Backups;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Console.Web.Tests.Infrastructure.Sealing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

/// <summary>A zstd+age copy in the browser: its codec shown, verified by opening it, downloaded sealed and opened.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SealedSnapshotsPageTests(Browser browser)
{
    [Fact]
    public async Task A_sealed_copy_shows_its_codec_verifies_opened_and_downloads_sealed_or_as_the_raw_db()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var keys = await AgeKeys.CreateAsync();
        var settings = new Dictionary<string, string?>(TestTokens.Cluster(etcd))
        {
            ["Console:Clusters:0:Backup:Enabled"] = "true",
            ["Console:Clusters:0:Backup:Interval"] = "1h",
            ["Console:Clusters:0:Backup:Targets:0"] = "local",
            ["Console:Clusters:0:Backup:Compression:Codec"] = "zstd",
            ["Console:Clusters:0:Backup:Encryption:Recipients:0"] = keys.Recipient,
            ["Console:Encryption:IdentityFiles:0"] = keys.IdentityFile,
        };
        await using var app = ConsoleApp.Start(settings);
        var records = app.Services.GetRequiredService<BackupRecordStore>();
        var record = (await Eventually.ValueAsync(() => records.QueryAsync(new BackupQuery("test"), CancellationToken.None), p => p.Items.Any(r => r.Status == BackupStatus.Succeeded), TimeSpan.FromSeconds(60))).Items[0];
        Assert.EndsWith(".db.zst.age", record.FileName, StringComparison.Ordinal);

        await using var session = await browser.OpenAsync(app, "snapshots");
        var page = session.Page;
        var row = page.Locator($"[data-testid=snapshot-row][data-file='{record.FileName}']");
        await Expect(row.Locator("[data-testid=codec]")).ToHaveAttributeAsync("data-codec", "zstd+age");
        await Expect(row.Locator("[data-testid=raw-size]")).ToContainTextAsync("inside");
        var copy = row.Locator("[data-testid=snapshot-copy][data-target=local]");
        await copy.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        await Expect(copy.Locator("[data-testid=verification]")).ToHaveAttributeAsync("data-state", "Ok", new() { Timeout = 30_000 });
        await Expect(copy.Locator("[data-testid=verification]")).ToContainTextAsync("opened zstd+age");
        await Browser.ScreenshotAsync(page, "snapshots-sealed");

        using var saved = new TestDirectory("download");
        var sealedDownload = await page.RunAndWaitForDownloadAsync(() => copy.GetByRole(AriaRole.Link, new() { Name = "Download", Exact = true }).ClickAsync());
        var sealedPath = Path.Combine(saved.Path, sealedDownload.SuggestedFilename);
        await sealedDownload.SaveAsAsync(sealedPath);
        Assert.Equal(record.FileName, sealedDownload.SuggestedFilename);
        var openedByTools = await Tool.RunAsync("zstd", ["-d", "-c"], await Tool.RunAsync("age", ["-d", "-i", keys.IdentityFile, sealedPath]));

        var rawDownload = await page.RunAndWaitForDownloadAsync(() => copy.GetByRole(AriaRole.Link, new() { Name = "Download .db" }).ClickAsync());
        var rawPath = Path.Combine(saved.Path, rawDownload.SuggestedFilename);
        await rawDownload.SaveAsAsync(rawPath);
        Assert.True(SnapshotName.TryParse(record.FileName!, out var name));
        Assert.Equal(name.RawFileName, rawDownload.SuggestedFilename);
        Assert.Equal(record.Sha256, await Console.Infrastructure.Etcd.SnapshotVerifier.VerifyFileAsync(rawPath, CancellationToken.None));
        Assert.Equal(SHA256.HashData(openedByTools), SHA256.HashData(await File.ReadAllBytesAsync(rawPath)));
    }
}
