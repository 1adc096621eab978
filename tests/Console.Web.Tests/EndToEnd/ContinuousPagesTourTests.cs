using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

/// <summary>
/// The recoverable window and the point-in-time form in Chromium, on a sandbox with Continuous on: the delta history
/// and the builder are fakes (capture and replay are tested on their own), everything else is the product. The form's
/// ids are the ones the end-to-end restore uses; screenshots of each page land in artifacts/screenshots.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ContinuousPagesTourTests(Browser browser)
{
    [Fact]
    public async Task The_window_shows_on_status_dashboard_and_settings_and_the_wizard_takes_a_point_in_time_through_its_form()
    {
        var history = new FakeDeltaHistory();
        var builder = new FakePointInTimeBuilder();
        await using var app = ConsoleApp.Start(
            new Dictionary<string, string?> { ["Console:Sandbox:Enabled"] = "true", ["Console:Sandbox:Members"] = "1", ["Console:Sandbox:Backup:Continuous:Enabled"] = "true" },
            services: s => s.AddSingleton<IDeltaHistory>(history).AddSingleton<IPointInTimeBuilder>(builder));
        await app.WaitForFirstBackupAsync();
        var first = (await app.Services.GetRequiredService<BackupRecordStore>().LastSuccessAsync("sandbox", CancellationToken.None))!;
        var spec = app.Services.GetRequiredService<ClusterCatalog>().Find("sandbox")!;
        var client = app.Services.GetRequiredService<EtcdClusterClientFactory>().For(spec);
        await client.PutAsync(spec.Endpoints[0], "/state", "A", CancellationToken.None);
        var keys = await client.CountKeysAsync(spec.Endpoints[0], "", CancellationToken.None);
        var atA = await app.Services.GetRequiredService<BackupRunner>().RunAsync("sandbox", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        var revisionB = await client.PutAsync(spec.Endpoints[0], "/state", "B", CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        history.Set(new RecoverableWindow(spec.Name, true,
            [new RecoverableSpan(first.Revision!.Value, revisionB, first.StartedAt, now, first.FileName!)],
            [new ContinuityBreak(first.Revision.Value - 1, first.Revision.Value, first.StartedAt.AddMinutes(-1), "the watcher fell behind a compaction")],
            now));
        builder.Source = (atA.Location!, atA.Revision!.Value, keys, first.FileName!);

        await using var session = await browser.OpenAsync(app);
        var page = session.Page;

        var window = page.Locator("[data-testid=continuous-row][data-cluster=sandbox] [data-testid=recoverable-window]");
        await Expect(window.Locator("[data-testid=window-range]")).ToContainTextAsync($"any revision from {first.Revision:N0} to {revisionB:N0}");
        await Expect(window.Locator("[data-testid=breaks]")).ToHaveAttributeAsync("data-count", "1");
        await Browser.ScreenshotAsync(page, "continuous-status");

        await page.GotoAsync(new Uri(app.Address, "backups").ToString());
        await Expect(page.Locator("[data-testid=continuous-card][data-cluster=sandbox]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=window-break]")).ToContainTextAsync("fell behind a compaction");
        await Browser.ScreenshotAsync(page, "continuous-dashboard");

        await page.GotoAsync(new Uri(app.Address, "settings").ToString());
        await Expect(page.Locator("[data-testid=effective-continuous]")).ToContainTextAsync("flush interval 1s");
        await Browser.ScreenshotAsync(page, "continuous-settings");

        await page.GotoAsync(new Uri(app.Address, "restore").ToString());
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Start a restore" }).ClickAsync();
        var panel = page.Locator("[data-testid=restore-panel]");
        await Expect(page.Locator("[data-testid=pit-form]")).ToBeVisibleAsync();

        // Garbage, then a revision past the window: refused on the page, still choosing.
        await page.Locator("#pit-time").FillAsync("last tuesday");
        await page.GetByRole(AriaRole.Button, new() { Name = "Use this point in time" }).ClickAsync();
        await Expect(page.Locator("[data-testid=pit-error]")).ToContainTextAsync("is not a UTC time to the second");
        await page.Locator("#pit-time").FillAsync("");
        await page.Locator("#pit-revision").FillAsync((revisionB + 1000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByRole(AriaRole.Button, new() { Name = "Use this point in time" }).ClickAsync();
        await Expect(page.Locator("[data-testid=pit-error]")).ToContainTextAsync("outside the recoverable window");
        await Expect(panel).ToHaveAttributeAsync("data-step", "Choose");
        await Browser.ScreenshotAsync(page, "pit-refused");

        await page.Locator("#pit-revision").FillAsync(atA.Revision.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByRole(AriaRole.Button, new() { Name = "Use this point in time" }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Verify");
        await Expect(page.Locator("[data-testid=pit-verify-note]")).ToHaveAttributeAsync("data-target", $"revision {atA.Revision.Value}");

        builder.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify", Exact = true }).ClickAsync();
        await Expect(page.Locator("[data-testid=pit-progress]")).ToHaveAttributeAsync("data-phase", "replaying");
        await Browser.ScreenshotAsync(page, "pit-building");
        builder.Hold.SetResult();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Plan", new() { Timeout = 90_000 });
        await Expect(page.Locator("[data-testid=plan-point-in-time]")).ToContainTextAsync(first.FileName!);
        await Browser.ScreenshotAsync(page, "pit-plan");

        await page.Locator("[data-testid=abandon]").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "RolledBack");
    }
}
