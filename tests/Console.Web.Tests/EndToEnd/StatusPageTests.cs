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
        await Expect(card.Locator("[data-testid=cluster-state]")).ToHaveAttributeAsync("data-state", "Healthy");
        await Expect(card.Locator("[data-testid=member-role]")).ToHaveCountAsync(3);
        await Expect(card.Locator("[data-testid=member-role][data-state=leader]")).ToHaveCountAsync(1);
        await Expect(card.Locator("[data-testid=member-role][data-state=follower]")).ToHaveCountAsync(2);
        var leader = await card.Locator("[data-testid=leader]").InnerTextAsync();
        Assert.Matches("^m[1-3]$", leader.Trim());
        await Expect(card.GetByRole(AriaRole.Cell, new() { Name = leader.Trim(), Exact = true })).ToHaveCountAsync(1);

        // The sandbox takes its first backup at start; then Back up now from the status table runs another, shown live.
        var row = page.Locator("[data-testid=backup-status-row][data-cluster=sandbox]");
        await Expect(row).ToHaveAttributeAsync("data-state", "Ok", new() { Timeout = 60_000 });
        await Expect(row.Locator("[data-testid=backup-state]")).ToHaveAttributeAsync("data-state", "Ok");
        var attempt = await row.Locator("[data-testid=last-attempt]").GetAttributeAsync("title");
        await row.GetByRole(AriaRole.Button, new() { Name = "Back up now" }).ClickAsync();
        await Expect(page.GetByText("Backup of sandbox started")).ToBeVisibleAsync();
        await Expect(row.Locator("[data-testid=last-attempt]")).Not.ToHaveAttributeAsync("title", attempt!, new() { Timeout = 60_000 });
        await Expect(row).ToHaveAttributeAsync("data-state", "Ok", new() { Timeout = 60_000 });

        // One console: one replica, alive, this one, and it ran the backups.
        var replica = page.Locator("[data-testid=replicas] [data-testid=replica]");
        await Expect(replica).ToHaveCountAsync(1);
        await Expect(replica).ToHaveAttributeAsync("data-state", "Alive");
        await Expect(replica.Locator("[data-testid=replica-self]")).ToBeVisibleAsync();
        var name = await replica.GetAttributeAsync("data-replica");
        await Expect(row.Locator("[data-testid=last-replica]")).ToHaveTextAsync($"on {name}");

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
            ["Console:Clusters:0:Backup:Enabled"] = "true",
            ["Console:Clusters:0:Backup:Interval"] = "1h",
            ["Console:Clusters:0:Backup:Targets:0"] = "local",
        });
        await using var session = await browser.OpenAsync(app);
        var page = session.Page;

        var card = page.Locator("[data-testid=cluster-card][data-cluster=offline]");
        await Expect(card).ToHaveAttributeAsync("data-state", "Unreachable", new() { Timeout = 30_000 });
        await Expect(card.Locator("[data-testid=cluster-state]")).ToHaveAttributeAsync("data-state", "Unreachable");
        await Expect(card.Locator("[data-testid=cluster-problems]")).ToContainTextAsync($"cannot reach 127.0.0.1:{port}: connection refused");

        // Still live: the checked-at time moves on with the poller, and a button click is handled.
        var checkedAt = await card.Locator("[data-testid=checked-at]").InnerTextAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Refresh now" }).ClickAsync();
        await Expect(card.Locator("[data-testid=checked-at]")).Not.ToHaveTextAsync(checkedAt, new() { Timeout = 15_000 });

        // Its first backup (taken at start, as for any cluster without one) fails: the row stands out as Error, with why.
        var row = page.Locator("[data-testid=backup-status-row][data-cluster=offline]");
        await Expect(row).ToHaveAttributeAsync("data-state", "Error", new() { Timeout = 60_000 });
        await Expect(row.Locator("[data-testid=backup-state]")).ToHaveAttributeAsync("data-state", "Error");
        await Expect(row.Locator("[data-testid=last-error]")).Not.ToHaveTextAsync("–");
        await Expect(row.Locator("[data-testid=failures]")).ToHaveAttributeAsync("data-state", "Error");
        await Browser.ScreenshotAsync(page, "status-unreachable");
    }
}
