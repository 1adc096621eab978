using System.Text.RegularExpressions;
using Console.Domain.Access;
using Console.Web.Tests.Fixtures;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

[Collection(BrowserCollection.Name)]
public sealed partial class BackupPageTests(Browser browser)
{
    [Fact]
    public async Task Back_up_now_runs_live_in_two_browsers_then_the_dashboard_and_records_show_it()
    {
        await using var app = ConsoleApp.Start(new Dictionary<string, string?>
        {
            ["Console:Sandbox:Enabled"] = "true",
            ["Console:Sandbox:Members"] = "3",
        });
        await app.WaitForFirstBackupAsync();
        await using var first = await browser.OpenAsync(app, "backups");
        await using var second = await browser.OpenAsync(app, "backups", Role.Viewer);
        var (page, watcher) = (first.Page, second.Page);
        var before = await watcher.Locator("[data-testid=backup-progress]").GetAttributeAsync("data-record");

        await page.GetByRole(AriaRole.Button, new() { Name = "Back up sandbox now" }).ClickAsync();

        // The viewer never clicked nor reloaded: the new run reaches its page live, to the end.
        foreach (var p in new[] { page, watcher })
        {
            var progress = p.Locator("[data-testid=backup-progress][data-cluster=sandbox]");
            await Expect(progress).Not.ToHaveAttributeAsync("data-record", before ?? string.Empty, new() { Timeout = 30_000 });
            await Expect(progress).ToHaveAttributeAsync("data-state", "succeeded", new() { Timeout = 30_000 });
            await Expect(progress.GetByTestId("backup-progress-text")).ToHaveTextAsync(DoneText());
        }

        var card = page.Locator("[data-testid=backup-now-card][data-cluster=sandbox]");
        await Expect(card).ToHaveAttributeAsync("data-state", "backed-up");
        await Expect(card.GetByTestId("success-7d")).ToHaveTextAsync("100% (2 of 2)");
        await Expect(card.GetByTestId("stored")).ToContainTextAsync("in 2 copies");
        await Expect(card.GetByTestId("would-lose")).ToContainTextAsync(" of changes");
        await Expect(page.GetByTestId("backup-charts")).ToHaveAttributeAsync("data-state", "ready");
        await Expect(page.GetByTestId("chart-outcomes").Locator("svg").First).ToBeVisibleAsync();
        var row = page.GetByTestId("backup-records").Locator("tbody tr").First;
        await Expect(row.GetByTestId("backup-status")).ToHaveAttributeAsync("data-state", "Succeeded");
        await Expect(row).ToContainTextAsync("Manual");
        await Browser.ScreenshotAsync(page, "backups-dashboard");
        await page.GetByTestId("chart-throughput").ScrollIntoViewIfNeededAsync();
        await Browser.ScreenshotAsync(page, "backups-dashboard-charts");
        await Expect(watcher.GetByRole(AriaRole.Button, new() { Name = "Back up sandbox now" })).ToHaveCountAsync(0);

        await row.GetByRole(AriaRole.Link).First.ClickAsync();
        await Expect(page.GetByTestId("backup-detail-page")).ToHaveAttributeAsync("data-state", "found");
        await Expect(page.GetByTestId("backup-sha256")).ToHaveTextAsync(Sha256());
        await Expect(page.GetByTestId("backup-location")).ToContainTextAsync(".db");
        await Expect(page.GetByTestId("backup-copies")).ToContainTextAsync("local: Stored");
        await Browser.ScreenshotAsync(page, "backup-detail");
    }

    [Fact]
    public async Task A_failed_backup_notifies_with_the_error_is_recorded_as_failed_and_found_by_the_status_filter()
    {
        var port = Console.Infrastructure.Sandbox.FreePorts.Pick(1)[0];
        await using var app = ConsoleApp.Start(new Dictionary<string, string?>
        {
            ["Console:Clusters:0:Name"] = "offline",
            ["Console:Clusters:0:Endpoints:0"] = $"http://127.0.0.1:{port}",
        });
        await using var session = await browser.OpenAsync(app, "backups");
        var page = session.Page;
        await Expect(page.GetByTestId("no-records")).ToHaveTextAsync("No backups recorded yet.");

        await page.GetByRole(AriaRole.Button, new() { Name = "Back up offline now" }).ClickAsync();

        await Expect(page.GetByText("Backup of offline failed")).ToContainTextAsync("connection refused", new() { Timeout = 30_000 });
        var card = page.Locator("[data-testid=backup-now-card][data-cluster=offline]");
        await Expect(card).ToHaveAttributeAsync("data-state", "no-backup");
        await Expect(card.GetByTestId("would-lose")).ToHaveTextAsync("everything: no good backup");
        await Expect(card.GetByTestId("success-7d")).ToHaveTextAsync("0% (0 of 1)");
        var row = page.GetByTestId("backup-records").Locator("tbody tr").First;
        await Expect(row.GetByTestId("backup-status")).ToHaveAttributeAsync("data-state", "Failed");
        await Expect(row).ToContainTextAsync($"cannot reach 127.0.0.1:{port}");
        await Browser.ScreenshotAsync(page, "backups-failed");

        await page.GetByTestId("filter-status").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Succeeded", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("no-records")).ToHaveTextAsync("No backups recorded that match these filters.");
    }

    [GeneratedRegex(@"^done: .+ from \S+ in \d+\.\d s$")]
    private static partial Regex DoneText();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256();
}
