using Console.Domain.Access;
using Console.Web.Tests.Fixtures;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

[Collection(BrowserCollection.Name)]
public sealed class AccessPageTests(Browser browser)
{
    private static readonly Dictionary<string, string?> Sandbox = new() { ["Console:Sandbox:Enabled"] = "true", ["Console:Sandbox:Members"] = "1" };

    [Fact]
    public async Task First_admin_creates_an_operator_who_signs_in_sees_no_restore_entry_and_is_locked_out_by_wrong_passwords()
    {
        var logs = new LogSink();
        await using var app = ConsoleApp.Start(Sandbox, logs: logs);
        var oneTime = logs.OneTimePassword();
        await using var session = await browser.NewSessionAsync();
        var page = session.Page;

        // The first admin signs in with the printed password and must choose a new one before anything else.
        await Browser.SignInAsync(page, app.Address, "admin", oneTime);
        await Expect(page.Locator("[data-testid=must-change]")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "must-change-password");
        await page.GotoAsync(new Uri(app.Address, "restore").ToString());
        await Expect(page.Locator("[data-testid=must-change]")).ToBeVisibleAsync();
        await ChangePasswordAsync(page, oneTime, "admin-chose-this-one");
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=signed-in-as]")).ToHaveAttributeAsync("data-role", "Admin");
        await Expect(Menu(page).GetByRole(AriaRole.Link, new() { Name = "Restore", Exact = true })).ToHaveCountAsync(1);

        // Users page: add an operator with a temporary password.
        await page.GotoAsync(new Uri(app.Address, "users").ToString());
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
        await page.GetByLabel("User name").FillAsync("olivia");
        await ChooseAsync(page, "Role of the new user", "Operator");
        await page.GetByLabel("Temporary password", new() { Exact = true }).FillAsync("olivia-temporary-1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
        await Expect(page.Locator("[data-testid=user-row][data-user=olivia]")).ToHaveAttributeAsync("data-role", "Operator");
        await Expect(page.GetByText("Added olivia (Operator)")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "users-page");

        // Sign out; the operator signs in, chooses a password, and gets no restore entry anywhere.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.Locator("[data-testid=login-form]")).ToBeVisibleAsync();
        await Browser.SignInAsync(page, app.Address, "olivia", "olivia-temporary-1");
        await ChangePasswordAsync(page, "olivia-temporary-1", "olivia-chose-this-one");
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=signed-in-as]")).ToHaveAttributeAsync("data-role", "Operator");
        await Expect(Menu(page).GetByRole(AriaRole.Link, new() { Name = "Backups", Exact = true })).ToHaveCountAsync(1);
        await Expect(Menu(page).GetByRole(AriaRole.Link, new() { Name = "Restore", Exact = true })).ToHaveCountAsync(0);
        await Expect(Menu(page).GetByRole(AriaRole.Link, new() { Name = "Users and tokens", Exact = true })).ToHaveCountAsync(0);
        await Browser.ScreenshotAsync(page, "operator-navigation");

        // Typing the address does not help: the page is refused on the server.
        await page.GotoAsync(new Uri(app.Address, "restore").ToString());
        await Expect(page.Locator("[data-testid=not-allowed]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=begin]")).ToHaveCountAsync(0);

        // What an operator may do is there.
        await page.GotoAsync(new Uri(app.Address, "backups").ToString());
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=backup-now]")).ToHaveCountAsync(1);

        // Wrong passwords lock the operator out; the form then answers her right password exactly as it answers a name
        // that does not exist, so it tells a guesser nothing, and it still says what to do.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.Locator("[data-testid=login-form]")).ToBeVisibleAsync();
        for (var attempt = 0; attempt < Console.Domain.Access.LockoutPolicy.Default.MaxFailures; attempt++)
        {
            await Browser.SignInAsync(page, app.Address, "olivia", "not-her-password-" + attempt);
            await Expect(page.Locator("[data-testid=login-error]")).ToBeVisibleAsync();
        }

        await Browser.SignInAsync(page, app.Address, "nobody-by-this-name", "olivia-chose-this-one");
        var unknown = await page.Locator("[data-testid=login-error]").InnerTextAsync();
        await Browser.SignInAsync(page, app.Address, "olivia", "olivia-chose-this-one");
        await Expect(page.Locator("[data-testid=login-error]")).ToHaveTextAsync(unknown);
        Assert.Contains("administrator can unlock", unknown, StringComparison.Ordinal);
        await Expect(page.Locator("[data-testid=login-form]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=login-password]")).ToHaveValueAsync("");
        await Expect(page.Locator("[data-testid=signed-in-as]")).ToHaveCountAsync(0);
        await Browser.ScreenshotAsync(page, "sign-in-refused");
    }

    [Fact]
    public async Task A_viewer_sees_no_button_for_what_only_operators_and_admins_may_do()
    {
        await using var app = ConsoleApp.Start(Sandbox);
        await app.WaitForFirstBackupAsync();
        await using var session = await browser.OpenAsync(app, "backups", Role.Viewer);
        var page = session.Page;
        await Expect(page.Locator("[data-testid=backup-now-card]")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-testid=backup-now]")).ToHaveCountAsync(0);

        await page.GotoAsync(new Uri(app.Address, "").ToString());
        await Expect(page.Locator("[data-testid=backup-status-row][data-cluster=sandbox]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=toggle-pause]")).ToHaveCountAsync(0);

        await page.GotoAsync(new Uri(app.Address, "snapshots").ToString());
        await Expect(page.Locator("[data-testid=snapshot-row]").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=verify]")).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-testid=download]")).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-testid=protect]")).ToHaveCountAsync(0);

        await page.GotoAsync(new Uri(app.Address, "settings").ToString());
        await Expect(page.Locator("[data-testid=settings-card]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=save-settings]")).ToHaveCountAsync(0);
        await Expect(Menu(page).GetByRole(AriaRole.Link, new() { Name = "Restore", Exact = true })).ToHaveCountAsync(0);

        // The audit log is readable by everyone and shows the viewer's own sign-in.
        await page.GotoAsync(new Uri(app.Address, "audit").ToString());
        await Expect(page.Locator("[data-testid=audit-actor]", new() { HasText = "test-viewer" }).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Browser.ScreenshotAsync(page, "audit-page");

        // Narrowed to refusals, the viewer's own sign-in is gone (nobody was refused here).
        await ChooseAsync(page, "Outcome", "Refused");
        await Expect(page.GetByText("Nothing matches these filters.")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=audit-actor]")).ToHaveCountAsync(0);

        // The same pages for an operator do show the buttons: their absence above is the role, not the page.
        await using var operatorSession = await browser.OpenAsync(app, "backups", Role.Operator);
        await Expect(operatorSession.Page.Locator("[data-testid=backup-now]")).ToHaveCountAsync(1);
    }

    private static ILocator Menu(IPage page) => page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });

    /// <summary>Picks an option of a select found by its name, and checks it took (a click during a re-render can miss).</summary>
    private static async Task ChooseAsync(IPage page, string select, string option)
    {
        var box = page.GetByRole(AriaRole.Combobox, new() { Name = select, Exact = true });
        await box.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Listbox)).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = option, Exact = true }).ClickAsync();
        await Expect(box).ToHaveTextAsync(option);
    }

    private static async Task ChangePasswordAsync(IPage page, string current, string chosen)
    {
        await page.GetByLabel("Current password").FillAsync(current);
        await page.GetByLabel("New password (at least").FillAsync(chosen);
        await page.GetByLabel("New password again").FillAsync(chosen);
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
    }
}
