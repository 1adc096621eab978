using Console.Web.Tests.Fixtures;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

[Collection(BrowserCollection.Name)]
public sealed class StatusPageTests(Browser browser)
{
    [Fact]
    public async Task Home_page_shows_the_three_member_sandbox_with_one_leader()
    {
        await using var app = ConsoleApp.Start(new Dictionary<string, string?>
        {
            ["Console:Sandbox:Enabled"] = "true",
            ["Console:Sandbox:Members"] = "3",
            ["Console:Sandbox:SeedKeys"] = "200",
        });
        await using var session = await browser.OpenAsync(app);
        var page = session.Page;

        var card = page.Locator("[data-testid=cluster-card][data-cluster=sandbox]");
        await Expect(card).ToHaveAttributeAsync("data-state", "Healthy", new() { Timeout = 30_000 });
        await Expect(card.Locator("[data-testid=members-up]")).ToHaveTextAsync("3 / 3");
        await Expect(card.Locator("[data-testid=key-count]")).ToHaveTextAsync("200");
        await Expect(card.Locator("[data-testid=member-role]")).ToHaveCountAsync(3);
        await Expect(card.Locator("[data-testid=member-role]", new() { HasText = "leader" })).ToHaveCountAsync(1);
        await Expect(card.Locator("[data-testid=member-role]", new() { HasText = "follower" })).ToHaveCountAsync(2);
        var leader = await card.Locator("[data-testid=leader]").InnerTextAsync();
        Assert.Matches("^m[1-3]$", leader.Trim());

        await Browser.ScreenshotAsync(page, "status-sandbox");
    }

    [Fact]
    public async Task An_unreachable_cluster_is_explained_and_the_page_keeps_working()
    {
        var port = Console.Infrastructure.Sandbox.FreePorts.Pick(1)[0];
        await using var app = ConsoleApp.Start(new Dictionary<string, string?>
        {
            ["Console:Clusters:0:Name"] = "offline",
            ["Console:Clusters:0:Endpoints:0"] = $"http://127.0.0.1:{port}",
            ["Console:Etcd:PollInterval"] = "00:00:01",
        });
        await using var session = await browser.OpenAsync(app);
        var page = session.Page;

        var card = page.Locator("[data-testid=cluster-card][data-cluster=offline]");
        await Expect(card).ToHaveAttributeAsync("data-state", "Unreachable", new() { Timeout = 30_000 });
        await Expect(card.Locator("[data-testid=cluster-problems]")).ToContainTextAsync($"cannot reach 127.0.0.1:{port}: connection refused");

        // Still live: the checked-at time moves on with the poller, and a button click is handled.
        var checkedAt = await card.Locator(".muted").First.InnerTextAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Refresh now" }).ClickAsync();
        await Expect(card.Locator(".muted").First).Not.ToHaveTextAsync(checkedAt, new() { Timeout = 15_000 });
        await Browser.ScreenshotAsync(page, "status-unreachable");
    }
}
