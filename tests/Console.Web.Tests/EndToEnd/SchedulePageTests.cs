using Console.Web.Tests.Fixtures;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

[Collection(BrowserCollection.Name)]
public sealed class SchedulePageTests(Browser browser)
{
    private static DateTimeOffset NextRun(string? attribute) => DateTimeOffset.Parse(attribute!, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Pause_resume_and_schedule_edits_show_up_with_their_next_run_and_bad_input_changes_nothing()
    {
        await using var app = ConsoleApp.Start(new Dictionary<string, string?> { ["Console:Sandbox:Enabled"] = "true", ["Console:Sandbox:Members"] = "1" });
        await using var session = await browser.OpenAsync(app);
        var page = session.Page;
        var row = page.Locator("[data-testid=backup-status-row][data-cluster=sandbox]");

        // The sandbox backs up hourly: a next run is shown.
        await Expect(row.Locator("[data-testid=next-run]")).ToHaveAttributeAsync("data-next-run", new System.Text.RegularExpressions.Regex(".+"), new() { Timeout = 30_000 });

        await row.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(row).ToHaveAttributeAsync("data-state", "Paused");
        await Expect(row.Locator("[data-testid=backup-state]")).ToHaveAttributeAsync("data-state", "Paused");
        await Expect(row.Locator("[data-testid=next-run]")).ToHaveTextAsync("paused");
        await Browser.ScreenshotAsync(page, "status-paused");

        await row.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(row).Not.ToHaveAttributeAsync("data-state", "Paused");
        await Expect(row.Locator("[data-testid=next-run]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^in "));

        await page.GotoAsync(new Uri(app.Address, "settings").ToString());
        await page.Locator("[data-testid=interactive]").WaitForAsync();
        var card = page.Locator("[data-testid=settings-card][data-cluster=sandbox]");
        var nextRun = card.Locator("[data-testid=settings-next-run]");
        var hourly = NextRun(await nextRun.GetAttributeAsync("data-next-run"));

        // A wrong interval is explained beside its field as soon as the field is left, and Save changes nothing.
        var interval = card.Locator("[data-testid=field-interval]");
        await card.GetByLabel("Interval").FillAsync("5s");
        await card.GetByLabel("Interval").BlurAsync();
        await Expect(interval).ToHaveAttributeAsync("data-state", "Error");
        await Expect(interval).ToContainTextAsync("shorter than one minute");
        await card.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(card.Locator("[data-testid=settings-errors]")).ToContainTextAsync("Nothing was changed");
        await Expect(card.Locator("[data-testid=effective-schedule]")).ToHaveTextAsync("every 1h");
        Assert.Equal(hourly, NextRun(await nextRun.GetAttributeAsync("data-next-run")));
        await Browser.ScreenshotAsync(page, "settings-invalid");

        await card.GetByLabel("Interval").FillAsync("3h");
        await card.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(card.Locator("[data-testid=effective-schedule]")).ToHaveTextAsync("every 3h");
        await Expect(page.GetByText("Saved backup settings of sandbox")).ToBeVisibleAsync();
        await Expect(interval).ToHaveAttributeAsync("data-state", "Ok");
        await Expect(card.Locator("[data-testid=settings-errors]")).ToHaveCountAsync(0);
        var edited = NextRun(await nextRun.GetAttributeAsync("data-next-run"));
        Assert.InRange(edited, DateTimeOffset.UtcNow.AddMinutes(175), DateTimeOffset.UtcNow.AddMinutes(181));
        await Browser.ScreenshotAsync(page, "settings-edited");
    }
}
