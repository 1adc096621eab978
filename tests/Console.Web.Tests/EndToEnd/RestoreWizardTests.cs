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
        await using var watcher = await browser.OpenAsync(app, "restore");
        var page = session.Page;
        var panel = page.Locator("[data-testid=restore-panel]");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start a restore" }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Choose");

        // Another admin's open page follows the wizard live.
        await Expect(watcher.Page.Locator("[data-testid=restore-panel]")).ToHaveAttributeAsync("data-step", "Choose");

        // The newest snapshot is pre-selected: the one just taken.
        await Expect(page.GetByLabel($"Use {backup.FileName}")).ToBeCheckedAsync();
        await Browser.ScreenshotAsync(page, "restore-1-choose");
        await page.GetByRole(AriaRole.Button, new() { Name = "Use this snapshot" }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Verify");
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify", Exact = true }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Plan", Slow);
        await Expect(page.Locator("[data-testid=plan-member]")).ToHaveCountAsync(3);
        await Expect(page.Locator("[data-testid=plan-commands]")).ToHaveCountAsync(3);
        await Expect(page.Locator("[data-testid=plan-commands]").First).ToContainTextAsync("snapshot restore");
        await Expect(watcher.Page.Locator("[data-testid=restore-panel]")).ToHaveAttributeAsync("data-step", "Plan");
        await Browser.ScreenshotAsync(page, "restore-3-plan");

        // A refresh resumes at the same step.
        await page.ReloadAsync();
        await page.Locator("[data-testid=interactive]").WaitForAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Plan");
        await page.GetByRole(AriaRole.Button, new() { Name = "Accept the plan" }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "SafetySnapshot");

        // At every typed confirmation a wrong phrase leaves the button disabled and the wizard where it was.
        await WrongPhraseDoesNothingAsync(page, Console.Domain.Restore.RestorePhrases.ProceedWithoutSafetySnapshot, "Go on without", "SafetySnapshot");
        await Browser.ScreenshotAsync(page, "restore-4-safety-wrong-phrase");
        await page.GetByRole(AriaRole.Heading, new() { Level = 1 }).ScrollIntoViewIfNeededAsync();
        await Browser.ScreenshotAsync(page, "restore-4-safety-wrong-phrase-window", fullPage: false);
        await page.GetByRole(AriaRole.Button, new() { Name = "Take safety snapshot" }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "StopMembers", Slow);

        await WrongPhraseDoesNothingAsync(page, "sandbox", "Stop members", "StopMembers");
        Assert.Equal("B", await client.GetAsync(spec.Endpoints[0], "/keys-b/0", CancellationToken.None));
        await Browser.ScreenshotAsync(page, "restore-5-stop");
        await page.GetByLabel("Type sandbox to confirm").FillAsync("sandbox");
        await page.GetByRole(AriaRole.Button, new() { Name = "Stop members", Exact = true }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "RestoreData", Slow);
        await Expect(page.Locator("[data-testid=member-states] tr[data-state=Stopped]")).ToHaveCountAsync(3);

        await WrongPhraseDoesNothingAsync(page, "restore sandbox", "Restore data", "RestoreData");
        await Browser.ScreenshotAsync(page, "restore-6-restore-data");
        await page.GetByLabel("Type restore sandbox to confirm").FillAsync("restore sandbox");
        await page.GetByRole(AriaRole.Button, new() { Name = "Restore data", Exact = true }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "StartMembers", Slow);
        await Expect(page.Locator("[data-testid=member-states] tr[data-state=Restored]")).ToHaveCountAsync(3);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Abandon" })).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Button, new() { Name = "Start members", Exact = true }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Prove", Slow);
        await page.GetByRole(AriaRole.Button, new() { Name = "Prove", Exact = true }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Done", Slow);
        await Expect(page.Locator("[data-testid=proof] tr[data-state=ok]")).ToHaveCountAsync(5);
        await Expect(page.Locator("[data-testid=audit] tbody tr")).Not.ToHaveCountAsync(0);
        await Expect(watcher.Page.Locator("[data-testid=restore-panel]")).ToHaveAttributeAsync("data-step", "Done");
        await Browser.ScreenshotAsync(page, "restore-done");

        using var fresh = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5));
        Assert.Equal(10, await fresh.CountKeysAsync(spec.Endpoints[1], "/keys-a/", CancellationToken.None));
        Assert.Equal(0, await fresh.CountKeysAsync(spec.Endpoints[2], "/keys-b/", CancellationToken.None));
        var statuses = await Task.WhenAll(spec.Endpoints.Select(e => fresh.StatusAsync(e, CancellationToken.None)));
        Assert.Single(statuses.Select(s => s.Leader).Distinct());
        var hashes = await Task.WhenAll(spec.Endpoints.Select(e => fresh.HashKvAsync(e, CancellationToken.None)));
        Assert.Single(hashes.Select(h => h.Hash).Distinct());
        Assert.Null(await runner.SuspendedBecauseAsync("sandbox", CancellationToken.None));
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
        await page.GetByRole(AriaRole.Button, new() { Name = "Start a restore" }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Choose");

        // Over Console:Restore:MaxUploadBytes: refused before it is stored, back on the Restore page at the same step, saying why.
        await page.GetByLabel("Snapshot file to upload").SetInputFilesAsync(tooBig);
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();
        await page.Locator("[data-testid=interactive]").WaitForAsync();
        await Expect(page.Locator("[data-testid=wizard-message]")).ToHaveAttributeAsync("data-ok", "false");
        await Expect(page.Locator("[data-testid=wizard-message]")).ToContainTextAsync("more than Console:Restore:MaxUploadBytes");
        await Expect(panel).ToHaveAttributeAsync("data-step", "Choose");
        await Expect(page.GetByLabel("Snapshot file to upload")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=restore-steps]")).ToContainTextAsync("Safety snapshot");
        await Expect(page.Locator("[data-testid=restore-steps]")).Not.ToContainTextAsync("SafetySnapshot");
        await Browser.ScreenshotAsync(page, "restore-upload-refused");

        await page.GetByLabel("Snapshot file to upload").SetInputFilesAsync(bad);
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();
        await page.Locator("[data-testid=interactive]").WaitForAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Verify");
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify", Exact = true }).ClickAsync();
        await Expect(page.Locator("[data-testid=wizard-message]")).ToContainTextAsync("the snapshot is refused", new() { Timeout = 60_000 });
        await Expect(panel).ToHaveAttributeAsync("data-step", "Verify");

        await page.GotoAsync(new Uri(app.Address, "restore").ToString());
        await page.Locator("[data-testid=interactive]").WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Abandon" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Start a restore" }).ClickAsync();
        await page.GetByLabel("Snapshot file to upload").SetInputFilesAsync(good);
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();
        await page.Locator("[data-testid=interactive]").WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify", Exact = true }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Plan", Slow);
        await Expect(page.Locator("[data-testid=restore-panel]")).ToContainTextAsync(backup.Sha256!);
    }
    /// <summary>Near misses of <paramref name="phrase"/> keep the step's button disabled; the server refuses them too (RestoreConfirmationTests).</summary>
    private static async Task WrongPhraseDoesNothingAsync(IPage page, string phrase, string button, string step)
    {
        var box = page.GetByLabel($"Type {phrase} to confirm");
        var confirm = page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true });
        foreach (var nearMiss in new[] { phrase[..^1], phrase.ToUpperInvariant(), string.Empty })
        {
            await box.FillAsync(nearMiss);
            await Expect(confirm).ToBeDisabledAsync();
            await Expect(page.Locator("[data-testid=restore-panel]")).ToHaveAttributeAsync("data-step", step);
        }

        await box.FillAsync(phrase[..^1]);
    }
}
