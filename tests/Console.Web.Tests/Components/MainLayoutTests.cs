using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Console.Domain.Access;
using Console.Web.Access;
using Console.Web.Components.Layout;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using MudBlazor.Services;

namespace Console.Web.Tests.Components;

public sealed class MainLayoutTests : BunitContext, IAsyncLifetime
{
    private static readonly string DarkBackground = $"--mud-palette-background: {ConsoleTheme.Theme.PaletteDark.Background};";
    private readonly BunitAuthorizationContext _auth;

    public MainLayoutTests()
    {
        Services.AddMudServices();

        JSInterop.Mode = JSRuntimeMode.Loose;
        _auth = AddAuthorization();
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    private IRenderedComponent<MainLayout> RenderLayout(Role? role, string? themeCookie = null)
    {
        if (role is { } r)
        {
            _auth.SetAuthorized("someone");
            _auth.SetRoles(r.ToString());
            _auth.SetClaims(new Claim(Principals.KindClaim, nameof(ActorKind.User)));
        }

        var request = new DefaultHttpContext();
        if (themeCookie is not null)
        {
            request.Request.Headers.Cookie = $"{ConsoleTheme.CookieName}={themeCookie}";
        }

        return Render<MainLayout>(p => p
            .AddCascadingValue(request)
            .Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "the page"))));
    }

    private static IReadOnlyList<string> Menu(IRenderedComponent<MainLayout> layout) =>
        [.. layout.FindAll("nav[aria-label=Pages] a").Select(a => a.TextContent.Trim())];

    [Fact]
    public void A_viewer_gets_the_reading_pages_and_no_restore_users_or_jobs()
    {
        var layout = RenderLayout(Role.Viewer);

        Assert.Equal(["Cluster status", "Backups", "Snapshots", "Settings", "Audit log"], Menu(layout));
        Assert.Equal("Viewer", layout.Find("[data-testid=signed-in-as]").GetAttribute("data-role"));
    }

    [Fact]
    public void An_admin_gets_every_page_with_the_jobs_dashboard_loaded_by_the_browser()
    {
        var layout = RenderLayout(Role.Admin);

        Assert.Equal([.. NavigationItems.All.Select(i => i.Text)], Menu(layout));
        Assert.Equal("_top", layout.Find("nav[aria-label=Pages] a[href='/hangfire']").GetAttribute("target"));
    }

    [Fact]
    public void Signed_out_there_is_no_menu_and_no_sign_out_button()
    {
        var layout = RenderLayout(role: null);

        Assert.Empty(Menu(layout));
        Assert.Empty(layout.FindAll("[data-testid=sign-out]"));
    }

    [Fact]
    public void Sign_out_is_a_real_post_form_with_an_antiforgery_token()
    {
        var layout = RenderLayout(Role.Operator);

        var form = layout.Find("form[action='account/logout']");
        Assert.Equal("post", form.GetAttribute("method"));
        Assert.Equal("false", form.GetAttribute("data-enhance"));
        Assert.Equal("submit", layout.Find("[data-testid=sign-out]").GetAttribute("type"));
    }

    [Fact]
    public void The_theme_starts_light_and_the_toggle_switches_to_dark_and_remembers_it()
    {
        var module = JSInterop.SetupModule("./Components/Layout/MainLayout.razor.js");
        module.SetupVoid("rememberTheme", _ => true);
        var layout = RenderLayout(Role.Viewer);
        var toggle = layout.Find("[data-testid=theme-toggle]");
        Assert.Equal(("light", "Switch to dark theme"), (toggle.GetAttribute("data-state"), toggle.GetAttribute("aria-label")));

        toggle.Click();

        toggle = layout.Find("[data-testid=theme-toggle]");
        Assert.Equal(("dark", "Switch to light theme"), (toggle.GetAttribute("data-state"), toggle.GetAttribute("aria-label")));
        Assert.Equal([ConsoleTheme.CookieName, "dark"], module.VerifyInvoke("rememberTheme").Arguments);
        Assert.Contains(DarkBackground, layout.Markup, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dark", "dark")]
    [InlineData("light", "light")]
    [InlineData("purple", "light")]
    [InlineData(null, "light")]
    public void The_first_render_follows_the_cookie(string? cookie, string shown)
    {
        var layout = RenderLayout(Role.Viewer, cookie);

        Assert.Equal(shown, layout.Find("[data-testid=theme-toggle]").GetAttribute("data-state"));
        Assert.Equal(shown == "dark", layout.Markup.Contains(DarkBackground, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_button_in_the_app_bar_has_a_name()
    {
        var layout = RenderLayout(Role.Admin);

        Assert.All(layout.FindAll("header button"), b => Assert.False(string.IsNullOrWhiteSpace(b.GetAttribute("aria-label") ?? b.TextContent), b.OuterHtml));
        Assert.Equal("Skip to the page", layout.Find("a[href='#main']").TextContent.Trim());
        Assert.NotNull(layout.Find("main#main"));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // Some services are IAsyncDisposable only, which bunit's synchronous Dispose (xunit v2's) cannot dispose.
    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}
