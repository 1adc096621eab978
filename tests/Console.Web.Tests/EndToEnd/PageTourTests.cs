using Console.Domain.Access;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

/// <summary>
/// Every page, as an administrator of the sandbox sees it, in the theme the browser remembers: the page is drawn in
/// that theme from its first byte, every control has a name a screen reader can say, and a screenshot of each lands in
/// artifacts/screenshots for a person to look at.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PageTourTests(Browser browser)
{
    private const string ThemeCookie = "console-theme";

    // A one-member sandbox, as a newcomer's first run has (with three), so every page has something to show.
    private static readonly Dictionary<string, string?> Sandbox = new() { ["Console:Sandbox:Enabled"] = "true", ["Console:Sandbox:Members"] = "1" };

    [Theory]
    [InlineData("light")]
    [InlineData("dark")]
    public async Task Every_page_is_drawn_in_the_remembered_theme_with_a_name_on_every_control(string theme)
    {
        await using var app = ConsoleApp.Start(Sandbox);
        await app.WaitForFirstBackupAsync();
        var backup = await app.Services.GetRequiredService<BackupRecordStore>().LastSuccessAsync("sandbox", CancellationToken.None);
        var (name, password) = await app.UserAsync(Role.Admin);

        await using var session = await browser.NewSessionAsync();
        var page = session.Page;
        await page.Context.AddCookiesAsync([new Cookie { Name = ThemeCookie, Value = theme, Url = app.Address.ToString() }]);

        // The sign-in page is served without a live connection: the theme must come from the server's first answer.
        await page.GotoAsync(new Uri(app.Address, "account/login").ToString());
        await ExpectDrawnAsync(page, theme, "sign-in");

        await Browser.SignInAsync(page, app.Address, name, password);
        await page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });

        string[][] pages =
        [
            ["", "status"],
            ["backups", "backups"],
            [$"backups/{backup!.Id}", "backup-detail"],
            ["snapshots", "snapshots"],
            ["settings", "settings"],
            ["restore", "restore"],
            ["users", "users"],
            ["audit", "audit"],
            ["no-such-page", "not-found"],
        ];
        foreach (var entry in pages)
        {
            var response = await page.GotoAsync(new Uri(app.Address, entry[0]).ToString());
            Assert.Equal(entry[1] == "not-found" ? 404 : 200, response!.Status);
            await page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
            await ExpectDrawnAsync(page, theme, entry[1]);
        }

        await page.GotoAsync(new Uri(app.Address, "account/change-password").ToString());
        await ExpectDrawnAsync(page, theme, "change-password");
    }

    [Fact]
    public async Task Every_control_on_every_page_is_reached_with_the_tab_key()
    {
        await using var app = ConsoleApp.Start(Sandbox);
        await app.WaitForFirstBackupAsync();
        await using var session = await browser.OpenAsync(app);
        var page = session.Page;
        string[][] pages = [["", "Cluster status"], ["backups", "Backups"], ["snapshots", "Snapshots"], ["settings", "Settings"], ["restore", "Restore"], ["users", "Users"], ["audit", "Audit"]];
        foreach (var entry in pages)
        {
            await page.GotoAsync(new Uri(app.Address, entry[0]).ToString());
            await page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync(entry[1]);
            await ExpectReachedWithTabAsync(page, entry[0]);
        }
    }

    private static async Task ExpectReachedWithTabAsync(IPage page, string path)
    {
        // Every visible, enabled control in the page's main area, and the ones the Tab key reaches from the top.
        var controls = await page.EvaluateAsync<string[]>(
            """
            () => {
              const main = document.querySelector('main') ?? document.body;
              const all = [...main.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])')];
              let n = 0;
              return all.filter(e => e.offsetParent !== null && e.tabIndex >= 0 && !e.disabled && !e.closest('[aria-hidden=true]'))
                        .map(e => { if (!e.dataset.tour) e.dataset.tour = 'c' + (n++); return e.dataset.tour; });
            }
            """);
        Assert.NotEmpty(controls);
        var reached = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 400 && !controls.All(reached.Contains); i++)
        {
            await page.Keyboard.PressAsync("Tab");
            var tour = await page.EvaluateAsync<string?>("() => document.activeElement?.closest('[data-tour]')?.dataset.tour ?? null");
            if (tour is not null)
            {
                reached.Add(tour);
            }
        }

        var missed = controls.Where(c => !reached.Contains(c)).ToArray();
        var described = missed.Length == 0 ? [] : await page.EvaluateAsync<string[]>(
            "ids => ids.map(id => document.querySelector(`[data-tour='${id}']`).outerHTML.slice(0, 160))", missed);
        Assert.True(missed.Length == 0, $"not reached with Tab on /{path}:\n" + string.Join("\n", described));
    }

    private static async Task ExpectDrawnAsync(IPage page, string theme, string name)
    {
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", theme);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 }).First).ToBeVisibleAsync();

        // Drawn in it, not only marked: the page's background is dark in the dark theme and light in the light one.
        var luminance = await page.EvaluateAsync<double>(
            """
            () => {
              const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
              return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
            }
            """);
        Assert.True(theme == "dark" ? luminance < 0.3 : luminance > 0.7, $"{name} is drawn with a background of luminance {luminance:0.00} in the {theme} theme");

        // A control's accessible name, roughly as the accessibility tree computes it: its label, aria-label(ledby),
        // title, or (for buttons and links) its text. Controls without one are listed, so the message says which.
        var unnamed = await page.EvaluateAsync<string[]>(
            """
            () => [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [role=button], [role=checkbox], [role=combobox], [role=switch], [role=tab]')]
              .filter(e => e.offsetParent !== null)
              .filter(e => {
                const text = (e.getAttribute('aria-label') ?? '').trim()
                  || [...(e.getAttribute('aria-labelledby') ?? '').split(' ')].map(id => document.getElementById(id)?.textContent ?? '').join('').trim()
                  || [...(e.labels ?? [])].map(l => l.textContent).join('').trim()
                  || (e.getAttribute('title') ?? '').trim()
                  || (['INPUT', 'SELECT', 'TEXTAREA'].includes(e.tagName) ? '' : e.textContent.trim());
                return text.length === 0;
              })
              .map(e => e.outerHTML.slice(0, 160))
            """);
        Assert.True(unnamed.Length == 0, $"controls without an accessible name on {name} ({theme}):\n" + string.Join("\n", unnamed));
        await Browser.ScreenshotAsync(page, $"{name}-{theme}");
    }
}
