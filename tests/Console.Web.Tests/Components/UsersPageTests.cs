using Bunit;
using Console.Domain.Access;
using Console.Web.Components.Pages.Users;

namespace Console.Web.Tests.Components;

public sealed class UsersPageTests : ShellPageContext
{
    private static string StateOf(IRenderedComponent<UsersPage> page, string user) =>
        page.Find($"[data-testid=user-row][data-user='{user}']").GetAttribute("data-state")!;

    private static Task ClickAsync(IRenderedComponent<UsersPage> page, string button) =>
        page.InvokeAsync(() => page.FindAll("button").Single(b => b.TextContent.Trim() == button).Click());

    private static void Fill(IRenderedComponent<UsersPage> page, string label, string value) =>
        page.FindAll("label").Single(l => l.TextContent.Trim() == label).ParentElement!.QuerySelector("input")!.Input(value);

    [Fact]
    public void With_only_the_admin_there_is_one_user_and_no_tokens()
    {
        var page = Render<UsersPage>();

        page.WaitForAssertion(() => Assert.Equal(["ada"], page.FindAll("[data-testid=user-row]").Select(r => r.GetAttribute("data-user"))));
        Assert.Equal("enabled", StateOf(page, "ada"));
        Assert.Equal("Admin", page.Find("[data-testid=user-row]").GetAttribute("data-role"));
        Assert.Equal("No tokens made here yet.", page.Find("[data-testid=no-tokens]").TextContent.Trim());
    }

    [Fact]
    public async Task Disabled_and_locked_users_show_their_state()
    {
        Assert.Empty(await Accounts.AddUserAsync(AdminActor, "dora", Role.Operator, "dora-temporary-1", CancellationToken.None));
        Assert.Empty(await Accounts.AddUserAsync(AdminActor, "lola", Role.Viewer, "lola-temporary-1", CancellationToken.None));
        var users = await Users.ListAsync(CancellationToken.None);
        Assert.Empty(await Accounts.SetDisabledAsync(AdminActor, users.Single(u => u.Name == "dora").Id, true, CancellationToken.None));
        await Users.RecordFailureAsync(users.Single(u => u.Name == "lola").Id, 1, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(15), CancellationToken.None);

        var page = Render<UsersPage>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=user-row]").Count));
        Assert.Equal(("disabled", "locked", "enabled"), (StateOf(page, "dora"), StateOf(page, "lola"), StateOf(page, "ada")));
        Assert.Equal("Enable dora", page.FindAll("button").Single(b => b.TextContent.Trim() == "Enable").GetAttribute("aria-label"));
    }

    [Fact]
    public async Task A_too_short_password_is_refused_beside_the_field_and_nobody_is_added()
    {
        RenderProviders();
        var page = Render<UsersPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=user-row]")));

        Fill(page, "User name", "olivia");
        Fill(page, "Temporary password", "short");
        await ClickAsync(page, "Add user");

        page.WaitForAssertion(() => Assert.Contains($"a password needs at least {Credentials.MinPasswordLength} characters", page.Markup, StringComparison.Ordinal));
        Assert.Single(page.FindAll("[data-testid=user-row]"));
        Assert.Single(await Users.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_valid_new_user_is_added_and_listed()
    {
        RenderProviders();
        var page = Render<UsersPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=user-row]")));

        Fill(page, "User name", "olivia");
        Fill(page, "Temporary password", "olivia-temporary-1");
        await ClickAsync(page, "Add user");

        page.WaitForAssertion(() => Assert.Equal("enabled", StateOf(page, "olivia")));
        Assert.Equal("Viewer", page.Find("[data-testid=user-row][data-user=olivia]").GetAttribute("data-role"));
        Assert.DoesNotContain("a user name is required", page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disabling_asks_first_and_cancel_changes_nothing()
    {
        Assert.Empty(await Accounts.AddUserAsync(AdminActor, "dora", Role.Operator, "dora-temporary-1", CancellationToken.None));
        var dialogs = RenderProviders();
        var page = Render<UsersPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=user-row]").Count));

        page.Find("button[aria-label='Disable dora']").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Disable dora?", dialogs.Markup, StringComparison.Ordinal));
        dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel").Click();

        dialogs.WaitForAssertion(() => Assert.DoesNotContain("Disable dora?", dialogs.Markup, StringComparison.Ordinal));
        Assert.Equal("enabled", StateOf(page, "dora"));

        page.Find("button[aria-label='Disable dora']").Click();
        dialogs.WaitForAssertion(() => dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Disable").Click());

        page.WaitForAssertion(() => Assert.Equal("disabled", StateOf(page, "dora")));
    }

    [Fact]
    public async Task A_made_token_is_shown_once_and_listed_as_live()
    {
        RenderProviders();
        var page = Render<UsersPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=user-row]")));

        Fill(page, "Token name", "nightly");
        await ClickAsync(page, "Make token");

        page.WaitForAssertion(() => Assert.StartsWith("ebc_", page.Find("[data-testid=new-token-value]").TextContent, StringComparison.Ordinal));
        Assert.Equal("live", page.Find("[data-testid=token-row][data-token=nightly]").GetAttribute("data-state"));
    }
}
