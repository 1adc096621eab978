using Bunit;
using Console.Domain.Access;
using Console.Infrastructure.Access;
using Console.Web.Components.Pages.Settings;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Components;

/// <summary>The Settings page's alerts card with the console's real alert service and a webhook receiver started by the test.</summary>
public sealed class AlertsCardTests : ConsolePageContext
{
    private const string Secret = "page-s3cret-token-b8e1";
    private readonly AlertReceiver _receiver;

    public AlertsCardTests()
        : this(new AlertReceiver())
    {
    }

    private AlertsCardTests(AlertReceiver receiver)
        : base(Settings(receiver))
    {
        _receiver = receiver;
    }

    private static Dictionary<string, string?> Settings(AlertReceiver receiver) => new(HomePageTests.Cluster)
    {
        ["Console:Alerts:Channels:0:Name"] = "ops",
        ["Console:Alerts:Channels:0:Kind"] = "webhook",
        ["Console:Alerts:Channels:0:Url"] = receiver.Url(Secret),
    };

    protected override void Dispose(bool disposing)
    {
        _receiver.Dispose();
        base.Dispose(disposing);
    }

    [Fact]
    public async Task Send_test_reaches_the_receiver_and_shows_the_outcome_and_the_url_is_shown_only_as_its_host()
    {
        var page = RenderPage<Settings>();
        var row = await page.WaitForElementAsync("[data-testid=alert-channel][data-channel=ops]");
        Assert.Contains($"http://127.0.0.1:{_receiver.Port}/…", row.TextContent, StringComparison.Ordinal);
        Assert.Equal("Idle", row.GetAttribute("data-state"));

        await page.Find("[data-testid=send-test]").ClickAsync(new());

        await page.WaitForAssertionAsync(() => Assert.Equal("Delivered", page.Find("[data-testid=alert-channel]").GetAttribute("data-state")), TimeSpan.FromSeconds(20));
        var body = Assert.Single(_receiver.Json);
        Assert.Equal("test", body.GetProperty("kind").GetString());
        Assert.Contains("Delivered: HTTP 200", page.Find("[data-testid=test-outcome]").TextContent, StringComparison.Ordinal);
        Assert.Contains("no-active-alerts", page.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, page.Markup, StringComparison.Ordinal);
        var audited = Assert.Single((await Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery(Action: AuditActions.AlertTest), CancellationToken.None)).Items);
        Assert.Equal(("test-admin", AuditOutcome.Succeeded), (audited.Actor, audited.Outcome));
        Assert.DoesNotContain(Secret, audited.Detail, StringComparison.Ordinal);
    }
}
