using Console.Domain.Access;
using Microsoft.Playwright;

namespace Console.Web.Tests.Fixtures;

/// <summary>Debian's Chromium driven by Playwright (no browser download), one per test collection.</summary>
public sealed class Browser : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Instance { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        Instance = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>
    /// Signs in to <paramref name="app"/> as a user of <paramref name="role"/> in a fresh browser context, opens
    /// <paramref name="path"/> and waits until the Blazor circuit is interactive.
    /// Dispose the session before the app: an open circuit holds the server's shutdown.
    /// </summary>
    public async Task<BrowserSession> OpenAsync(ConsoleApp app, string path = "", Role role = Role.Admin)
    {
        var (name, password) = await app.UserAsync(role);
        var session = await NewSessionAsync();
        await SignInAsync(session.Page, app.Address, name, password, path);
        await session.Page.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
        return session;
    }

    public async Task<BrowserSession> NewSessionAsync()
    {
        var context = await Instance.NewContextAsync(new() { ViewportSize = new() { Width = 1400, Height = 900 } });
        return new BrowserSession(context, await context.NewPageAsync());
    }

    /// <summary>Fills and submits the sign-in form, asking to land on <paramref name="path"/>.</summary>
    public static async Task SignInAsync(IPage page, Uri address, string name, string password, string path = "")
    {
        await page.GotoAsync(new Uri(address, "account/login?ReturnUrl=" + Uri.EscapeDataString("/" + path)).ToString());
        await page.Locator("[data-testid=login-name]").FillAsync(name);
        await page.Locator("[data-testid=login-password]").FillAsync(password);
        await page.Locator("[data-testid=login-submit]").ClickAsync();
    }

    /// <summary>
    /// Saves a screenshot under artifacts/screenshots at the repository root: the whole page, or what the window shows.
    /// The page is scrolled to the top first, or the app bar (fixed to the window) would be drawn where it had scrolled.
    /// </summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name, bool fullPage = true)
    {
        if (fullPage)
        {
            await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        }

        var directory = Path.Combine(RepositoryRoot(), "artifacts", "screenshots");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = fullPage });
        return path;
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Console.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? AppContext.BaseDirectory;
    }

    public async Task DisposeAsync()
    {
        if (Instance is not null)
        {
            await Instance.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

public sealed class BrowserSession(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IPage Page { get; } = page;

    public ValueTask DisposeAsync() => new(context.CloseAsync());
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<Browser>
{
    public const string Name = "browser";
}
