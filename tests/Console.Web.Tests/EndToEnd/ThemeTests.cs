using Console.Domain.Access;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

[Collection(BrowserCollection.Name)]
public sealed class ThemeTests(Browser browser)
{
    private const string DarkBackground = "rgb(20, 24, 30)";

    [Fact]
    public async Task The_dark_theme_is_remembered_by_the_browser_and_served_dark_from_the_first_byte()
    {
        await using var app = ConsoleApp.Start();
        await using var session = await browser.OpenAsync(app, "audit", Role.Viewer);
        var page = session.Page;
        var html = page.Locator("html");
        await Expect(html).ToHaveAttributeAsync("data-theme", "light");
        await Expect(page.Locator("[data-testid=audit-actor]").First).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "audit-page-light");

        await page.GetByRole(AriaRole.Button, new() { Name = "Switch to dark theme" }).ClickAsync();

        await Expect(html).ToHaveAttributeAsync("data-theme", "dark");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Switch to light theme" })).ToHaveAttributeAsync("data-state", "dark");
        Assert.Equal(DarkBackground, await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor"));
        Assert.Contains(await session.Page.Context.CookiesAsync(), c => c is { Name: "console-theme", Value: "dark" });

        // A reload: the server reads the cookie, so the HTML it sends is already dark, before any script runs.
        var response = await page.ReloadAsync();
        var served = await response!.TextAsync();
        Assert.Contains("data-theme=\"dark\"", served, StringComparison.Ordinal);
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Switch to light theme" })).ToHaveAttributeAsync("data-state", "dark");
        Assert.Equal(DarkBackground, await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor"));
        await Expect(page.Locator("[data-testid=audit-actor]").First).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "audit-page-dark");

        // Every page of the shell keeps it: the status page, the users page, and the sign-in page after signing out.
        await page.GotoAsync(new Uri(app.Address, "").ToString());
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
        await Expect(html).ToHaveAttributeAsync("data-theme", "dark");
        await Browser.ScreenshotAsync(page, "shell-dark");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.Locator("[data-testid=login-form]")).ToBeVisibleAsync();
        await Expect(html).ToHaveAttributeAsync("data-theme", "dark");
        Assert.Equal(DarkBackground, await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor"));
        await Browser.ScreenshotAsync(page, "sign-in-dark");

        // And back to light, remembered the same way.
        await Browser.SignInAsync(page, app.Address, "test-viewer", (await app.UserAsync(Role.Viewer)).Password);
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Switch to light theme" }).ClickAsync();
        await Expect(html).ToHaveAttributeAsync("data-theme", "light");
        await page.ReloadAsync();
        await Expect(html).ToHaveAttributeAsync("data-theme", "light");
        await Browser.ScreenshotAsync(page, "shell-light");
    }

    [Fact]
    public async Task The_users_page_reads_well_in_both_themes()
    {
        await using var app = ConsoleApp.Start();
        var admin = await app.ActorAsync(Role.Admin);
        var accounts = app.Services.GetRequiredService<Console.Infrastructure.Access.AccountService>();
        Assert.Empty(await accounts.AddUserAsync(admin, "olivia", Role.Operator, "olivia-temporary-1", CancellationToken.None));
        _ = await accounts.CreateTokenAsync(admin, "nightly", Role.Viewer, CancellationToken.None);
        await using var session = await browser.OpenAsync(app, "users", Role.Admin);
        var page = session.Page;
        await Expect(page.Locator("[data-testid=token-row][data-token=nightly]")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "users-page-light");

        // Revoking asks first, in a dialog named for what it does.
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke nightly" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("Revoke token nightly?");
        await Browser.ScreenshotAsync(page, "users-revoke-dialog");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.Locator("[data-testid=token-row][data-token=nightly]")).ToHaveAttributeAsync("data-state", "revoked");

        await page.GetByRole(AriaRole.Button, new() { Name = "Switch to dark theme" }).ClickAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "dark");
        await Browser.ScreenshotAsync(page, "users-page-dark");
    }
}
