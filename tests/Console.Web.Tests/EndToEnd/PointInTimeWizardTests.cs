using System.Globalization;
using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Etcd;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

/// <summary>Issue 16's end-to-end proof: back up, write A, note the time, write B, restore to the noted time.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PointInTimeWizardTests(Browser browser)
{
    private static readonly LocatorAssertionsToHaveAttributeOptions Slow = new() { Timeout = 120_000 };

    [Fact]
    public async Task Restoring_to_a_noted_moment_brings_back_what_was_written_before_it_and_nothing_after()
    {
        await using var app = ConsoleApp.Start(new Dictionary<string, string?>
        {
            ["Console:Sandbox:Enabled"] = "true",
            ["Console:Sandbox:Members"] = "3",
            ["Console:Sandbox:SeedKeys"] = "20",
            ["Console:Sandbox:Backup:Continuous:Enabled"] = "true",
            ["Console:Sandbox:Backup:Continuous:FlushInterval"] = "1s",
        });
        var spec = app.Services.GetRequiredService<ClusterCatalog>().Find("sandbox")!;
        var client = app.Services.GetRequiredService<EtcdClusterClientFactory>().For(spec);
        var history = app.Services.GetRequiredService<IDeltaHistory>();
        await app.WaitForFirstBackupAsync();
        await Eventually.ValueAsync(() => history.WindowAsync(spec.Name, CancellationToken.None), w => w.Current is not null, TimeSpan.FromSeconds(90));

        var a = 0L;
        for (var i = 0; i < 10; i++)
        {
            a = await client.PutAsync(spec.Endpoints[0], $"/keys-a/{i}", "A", CancellationToken.None);
        }

        // The noted time: once A is durable, and strictly before B is written.
        await Eventually.ValueAsync(() => history.WindowAsync(spec.Name, CancellationToken.None), w => w.Current?.ToRevision >= a, TimeSpan.FromSeconds(60));
        // A time names that exact second (hh:mm:ss.000): note the next whole second, and write B only after it.
        var now = DateTimeOffset.UtcNow;
        var noted = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, TimeSpan.Zero).AddSeconds(1);
        await Eventually.ValueAsync(() => Task.FromResult(DateTimeOffset.UtcNow), t => t > noted.AddMilliseconds(50), TimeSpan.FromSeconds(10));
        var b = 0L;
        for (var i = 0; i < 10; i++)
        {
            b = await client.PutAsync(spec.Endpoints[0], $"/keys-b/{i}", "B", CancellationToken.None);
        }

        await Eventually.ValueAsync(() => history.WindowAsync(spec.Name, CancellationToken.None), w => w.Current?.ToRevision >= b, TimeSpan.FromSeconds(60));

        await using var session = await browser.OpenAsync(app, "restore");
        var page = session.Page;
        var panel = page.Locator("[data-testid=restore-panel]");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start a restore" }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Choose");
        // A time outside the window is refused on the page, and nothing is chosen.
        await page.Locator("#pit-time").FillAsync(noted.AddDays(-1).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        await page.GetByTestId("pit-choose").ClickAsync();
        await Expect(page.GetByTestId("pit-error")).ToContainTextAsync("outside");
        await Expect(panel).ToHaveAttributeAsync("data-step", "Choose");

        await page.Locator("#pit-time").FillAsync(noted.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        await page.GetByTestId("pit-choose").ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Verify");
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify", Exact = true }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Plan", Slow);
        await Expect(page.GetByTestId("plan-point-in-time")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "pit-e2e-plan");
        await page.GetByRole(AriaRole.Button, new() { Name = "Accept the plan" }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "SafetySnapshot");
        await page.GetByRole(AriaRole.Button, new() { Name = "Take safety snapshot" }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "StopMembers", Slow);
        await page.GetByLabel("Type sandbox to confirm").FillAsync("sandbox");
        await page.GetByRole(AriaRole.Button, new() { Name = "Stop members", Exact = true }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "RestoreData", Slow);
        await page.GetByLabel("Type restore sandbox to confirm").FillAsync("restore sandbox");
        await page.GetByRole(AriaRole.Button, new() { Name = "Restore data", Exact = true }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "StartMembers", Slow);
        await page.GetByRole(AriaRole.Button, new() { Name = "Start members", Exact = true }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Prove", Slow);
        await page.GetByRole(AriaRole.Button, new() { Name = "Prove", Exact = true }).ClickAsync();
        await Expect(panel).ToHaveAttributeAsync("data-step", "Done", Slow);
        await Expect(page.Locator("[data-testid=proof] tr[data-state=ok]")).ToHaveCountAsync(5);
        await Browser.ScreenshotAsync(page, "pit-e2e-done");

        // A present, B absent, on three members with one leader and equal HashKV.
        using var fresh = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5));
        foreach (var endpoint in spec.Endpoints)
        {
            Assert.Equal(10, await fresh.CountKeysAsync(endpoint, "/keys-a/", CancellationToken.None));
            Assert.Equal(0, await fresh.CountKeysAsync(endpoint, "/keys-b/", CancellationToken.None));
        }

        var statuses = await Task.WhenAll(spec.Endpoints.Select(e => fresh.StatusAsync(e, CancellationToken.None)));
        Assert.Equal(3, statuses.Length);
        Assert.Single(statuses.Select(s => s.Leader).Distinct());
        var hashes = await Task.WhenAll(spec.Endpoints.Select(e => fresh.HashKvAsync(e, CancellationToken.None)));
        Assert.Single(hashes.Select(h => h.Hash).Distinct());

        // Continuous backup notices the replaced history: a break that says so, and a new chain on the restored cluster.
        var after = await Eventually.ValueAsync(
            () => history.WindowAsync(spec.Name, CancellationToken.None),
            w => w.Breaks.Any(x => x.Reason.Contains("history was replaced", StringComparison.Ordinal) && x.ResumedAtRevision is not null) && w.Current is not null,
            TimeSpan.FromSeconds(180));
        Assert.True(after.Current!.FromTime > noted, "the new chain starts from a full snapshot of the restored cluster");
        var replaced = after.Breaks.Single(x => x.Reason.Contains("history was replaced", StringComparison.Ordinal));
        Assert.Equal(after.Current.FromRevision, replaced.ResumedAtRevision);
        await page.GotoAsync(app.Address.ToString());
        await page.Locator("[data-testid=interactive]").WaitForAsync();
        await Expect(page.Locator("[data-testid=continuous-row][data-cluster=sandbox] [data-testid=breaks]")).ToContainTextAsync("history was replaced");
        await Browser.ScreenshotAsync(page, "pit-e2e-status-after");
    }
}
