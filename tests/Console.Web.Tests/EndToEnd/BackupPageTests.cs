using Console.Web.Tests.Fixtures;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

[Collection(BrowserCollection.Name)]
public sealed class BackupPageTests(Browser browser)
{
    [Fact]
    public async Task Back_up_now_shows_progress_then_a_succeeded_record_with_its_details()
    {
        await using var app = ConsoleApp.Start(new Dictionary<string, string?>
        {
            ["Console:Sandbox:Enabled"] = "true",
            ["Console:Sandbox:Members"] = "3",
        });
        await using var session = await browser.OpenAsync(app, "backups");
        var page = session.Page;
        var card = page.Locator("[data-testid=backup-now-card][data-cluster=sandbox]");

        await card.Locator("[data-testid=backup-now]").ClickAsync();

        var progress = card.Locator("[data-testid=backup-progress]");
        await Expect(progress).ToBeVisibleAsync();
        await Expect(progress).ToHaveAttributeAsync("data-phase", "Finished", new() { Timeout = 30_000 });
        await Expect(progress.Locator("[data-testid=backup-progress-text]")).ToContainTextAsync("done:");
        var row = page.Locator("[data-testid=backup-records] tbody tr").First;
        await Expect(row.Locator("[data-testid=backup-status]")).ToHaveTextAsync("Succeeded");
        await Expect(row).ToContainTextAsync("sandbox");
        await Browser.ScreenshotAsync(page, "backups-succeeded");

        await row.Locator("a").First.ClickAsync();
        await Expect(page.Locator("[data-testid=backup-sha256]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9a-f]{64}$"));
        await Expect(page.Locator("[data-testid=backup-location]")).ToContainTextAsync(".db");
    }

    [Fact]
    public async Task A_failed_backup_notifies_with_the_error_and_is_recorded_as_failed()
    {
        var port = Console.Infrastructure.Sandbox.FreePorts.Pick(1)[0];
        await using var app = ConsoleApp.Start(new Dictionary<string, string?>
        {
            ["Console:Clusters:0:Name"] = "offline",
            ["Console:Clusters:0:Endpoints:0"] = $"http://127.0.0.1:{port}",
        });
        await using var session = await browser.OpenAsync(app, "backups");
        var page = session.Page;

        await page.Locator("[data-testid=backup-now-card][data-cluster=offline] [data-testid=backup-now]").ClickAsync();

        await Expect(page.Locator(".rz-notification-message").First).ToContainTextAsync("connection refused", new() { Timeout = 30_000 });
        var row = page.Locator("[data-testid=backup-records] tbody tr").First;
        await Expect(row.Locator("[data-testid=backup-status]")).ToHaveTextAsync("Failed");
        await Expect(row).ToContainTextAsync($"cannot reach 127.0.0.1:{port}");
        await Browser.ScreenshotAsync(page, "backups-failed");
    }
}
