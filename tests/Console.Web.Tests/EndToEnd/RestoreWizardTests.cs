using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Etcd;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

[Collection(BrowserCollection.Name)]
public sealed class RestoreWizardTests(Browser browser)
{
    private static readonly LocatorAssertionsToHaveAttributeOptions Slow = new() { Timeout = 90_000 };

    [Fact]
    public async Task Every_step_through_the_browser_brings_back_the_backed_up_keys_on_a_whole_three_member_cluster()
    {
        await using var app = ConsoleApp.Start(new Dictionary<string, string?> { ["Console:Sandbox:Enabled"] = "true", ["Console:Sandbox:Members"] = "3", ["Console:Sandbox:SeedKeys"] = "20" });
        var spec = app.Services.GetRequiredService<ClusterCatalog>().Find("sandbox")!;
        var client = app.Services.GetRequiredService<EtcdClusterClientFactory>().For(spec);
        var runner = app.Services.GetRequiredService<BackupRunner>();
        await app.WaitForFirstBackupAsync();
        for (var i = 0; i < 10; i++)
        {
            await client.PutAsync(spec.Endpoints[0], $"/keys-a/{i}", "A", CancellationToken.None);
        }

        var backup = await runner.RunAsync("sandbox", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        Assert.Equal(BackupStatus.Succeeded, backup.Status);
        for (var i = 0; i < 10; i++)
        {
            await client.PutAsync(spec.Endpoints[0], $"/keys-b/{i}", "B", CancellationToken.None);
        }

        await using var session = await browser.OpenAsync(app, "restore");
        var page = session.Page;
        var panel = page.Locator("[data-testid=restore-panel]");
        await page.Locator("[data-testid=begin]").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Choose");

        // The newest snapshot is pre-selected: the one just taken.
        await Expect(page.Locator($"[data-testid=candidate][data-file='{backup.FileName}'] input")).ToBeCheckedAsync();
        await page.Locator("[data-testid=choose]").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Verify");
        await page.Locator("[data-testid=verify]").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Plan", Slow);
        await Expect(page.Locator("[data-testid=plan-members] tbody tr")).ToHaveCountAsync(3);
        await Expect(page.Locator("[data-testid=plan-members]")).ToContainTextAsync("snapshot restore");

        // A refresh resumes at the same step.
        await page.ReloadAsync();
        await page.Locator("[data-testid=interactive]").WaitForAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Plan");
        await page.Locator("[data-testid=accept-plan]").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "SafetySnapshot");
        await page.Locator("[data-testid=safety]").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "StopMembers", Slow);

        // A wrong phrase does nothing: the cluster keeps running.
        await page.Locator("[data-testid=confirm-stop]").FillAsync("sandbx");
        await page.Locator("[data-testid=confirm-stop-button]").ClickAsync();
        await Expect(page.Locator("[data-testid=wizard-message]")).ToHaveAttributeAsync("data-ok", "false");
        await Expect(panel).ToHaveAttributeAsync("data-step", "StopMembers");
        Assert.Equal("B", await client.GetAsync(spec.Endpoints[0], "/keys-b/0", CancellationToken.None));

        await page.Locator("[data-testid=confirm-stop]").FillAsync("sandbox");
        await page.Locator("[data-testid=confirm-stop-button]").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "RestoreData", Slow);
        await page.Locator("[data-testid=confirm-restore]").FillAsync("restore sandbox");
        await page.Locator("[data-testid=confirm-restore-button]").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "StartMembers", Slow);
        await page.Locator("[data-testid=start]").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Prove", Slow);
        await page.Locator("[data-testid=prove]").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Done", Slow);
        await Expect(page.Locator("[data-testid=proof] tr[data-ok=true]")).ToHaveCountAsync(5);
        await Expect(page.Locator("[data-testid=audit] tbody tr")).Not.ToHaveCountAsync(0);
        await Browser.ScreenshotAsync(page, "restore-done");

        using var fresh = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5));
        Assert.Equal(10, await fresh.CountKeysAsync(spec.Endpoints[1], "/keys-a/", CancellationToken.None));
        Assert.Equal(0, await fresh.CountKeysAsync(spec.Endpoints[2], "/keys-b/", CancellationToken.None));
        var statuses = await Task.WhenAll(spec.Endpoints.Select(e => fresh.StatusAsync(e, CancellationToken.None)));
        Assert.Single(statuses.Select(s => s.Leader).Distinct());
        var hashes = await Task.WhenAll(spec.Endpoints.Select(e => fresh.HashKvAsync(e, CancellationToken.None)));
        Assert.Single(hashes.Select(h => h.Hash).Distinct());
        Assert.Null(runner.SuspendedBecause("sandbox"));
    }

    [Fact]
    public async Task An_uploaded_snapshot_is_verified_before_anything_else_and_a_corrupted_upload_is_refused()
    {
        await using var app = ConsoleApp.Start(new Dictionary<string, string?> { ["Console:Sandbox:Enabled"] = "true", ["Console:Sandbox:Members"] = "1", ["Console:Sandbox:SeedKeys"] = "5", ["Console:Restore:MaxUploadBytes"] = "1048576" });
        var runner = app.Services.GetRequiredService<BackupRunner>();
        await app.WaitForFirstBackupAsync();
        var backup = await runner.RunAsync("sandbox", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        using var files = new TestDirectory("upload");
        var good = files.Combine("from-another-console.db");
        var bad = files.Combine("damaged.db");
        File.Copy(backup.Location!, good);
        var bytes = await File.ReadAllBytesAsync(good);
        bytes[bytes.Length / 2] ^= 0x20;
        await File.WriteAllBytesAsync(bad, bytes);
        var tooBig = files.Combine("too-big.db");
        await File.WriteAllBytesAsync(tooBig, new byte[3 << 20]);
        Assert.True(new FileInfo(good).Length < 1048576, "the sandbox's snapshot must fit under the configured upload limit");

        await using var session = await browser.OpenAsync(app, "restore");
        var page = session.Page;
        var panel = page.Locator("[data-testid=restore-panel]");
        await page.Locator("[data-testid=begin]").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Choose");

        // Over Console:Restore:MaxUploadBytes: refused before it is stored, back on the Restore page at the same step, saying why.
        await page.Locator("[data-testid=upload-file]").SetInputFilesAsync(tooBig);
        await page.Locator("[data-testid=upload]").ClickAsync();
        await page.Locator("[data-testid=interactive]").WaitForAsync();
        await Expect(page.Locator("[data-testid=wizard-message]")).ToHaveAttributeAsync("data-ok", "false");
        await Expect(page.Locator("[data-testid=wizard-message]")).ToContainTextAsync("more than Console:Restore:MaxUploadBytes");
        await Expect(panel).ToHaveAttributeAsync("data-step", "Choose");
        await Expect(page.Locator("[data-testid=upload-file]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=restore-steps]")).ToContainTextAsync("Safety snapshot");
        await Expect(page.Locator("[data-testid=restore-steps]")).Not.ToContainTextAsync("SafetySnapshot");
        await Browser.ScreenshotAsync(page, "restore-upload-refused");

        await page.Locator("[data-testid=upload-file]").SetInputFilesAsync(bad);
        await page.Locator("[data-testid=upload]").ClickAsync();
        await page.Locator("[data-testid=interactive]").WaitForAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Verify");
        await page.Locator("[data-testid=verify]").ClickAsync();
        await Expect(page.Locator("[data-testid=wizard-message]")).ToContainTextAsync("the snapshot is refused", new() { Timeout = 60_000 });
        await Expect(panel).ToHaveAttributeAsync("data-step", "Verify");

        await page.GotoAsync(new Uri(app.Address, "restore").ToString());
        await page.Locator("[data-testid=interactive]").WaitForAsync();
        await page.Locator("[data-testid=abandon]").ClickAsync();
        await page.Locator("[data-testid=begin]").ClickAsync();
        await page.Locator("[data-testid=upload-file]").SetInputFilesAsync(good);
        await page.Locator("[data-testid=upload]").ClickAsync();
        await page.Locator("[data-testid=interactive]").WaitForAsync();
        await page.Locator("[data-testid=verify]").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Plan", Slow);
        await Expect(page.Locator("[data-testid=restore-panel]")).ToContainTextAsync(backup.Sha256!);
    }
}
