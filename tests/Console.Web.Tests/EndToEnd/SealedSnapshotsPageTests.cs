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

    [Fact]
    public async Task The_wizard_refuses_an_encrypted_copy_without_an_identity_and_verifies_it_with_one_pasted_for_the_step()
    {
        using var keys = await AgeKeys.CreateAsync();
        await using var app = ConsoleApp.Start(new Dictionary<string, string?>
        {
            ["Console:Sandbox:Enabled"] = "true",
            ["Console:Sandbox:Members"] = "1",
            ["Console:Sandbox:SeedKeys"] = "5",
            ["Console:Sandbox:Backup:Compression:Codec"] = "zstd",
            ["Console:Sandbox:Backup:Encryption:Recipients:0"] = keys.Recipient,
        });
        await app.WaitForFirstBackupAsync();

        await using var session = await browser.OpenAsync(app, "restore");
        var page = session.Page;
        var panel = page.Locator("[data-testid=restore-panel]");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start a restore" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Use this snapshot" }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Verify");
        await Expect(page.Locator("[data-testid=sealed-note]")).ToBeVisibleAsync();

        // Nothing configured, nothing pasted: refused in words, still at Verify.
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("wizard-message")).ToContainTextAsync("no identity is configured", new() { Timeout = 60_000 });
        await Expect(panel).ToHaveAttributeAsync("data-step", "Verify");

        // The identity pasted for this step opens it; the box is empty again afterwards.
        var identity = page.Locator("input[data-testid=identity]");
        var secret = (await File.ReadAllLinesAsync(keys.IdentityFile)).Single(l => l.StartsWith("AGE-SECRET-KEY-1", StringComparison.Ordinal));
        await identity.FillAsync(secret);
        await Browser.ScreenshotAsync(page, "restore-2-verify-sealed");
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify", Exact = true }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Plan", new() { Timeout = 90_000 });
        Assert.DoesNotContain(secret[16..], await page.ContentAsync(), StringComparison.Ordinal);
    }
}
