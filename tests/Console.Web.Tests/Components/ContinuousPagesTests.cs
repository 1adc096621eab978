using Bunit;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Restore;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Restore;
using Console.Web.Components.Pages.Restore;
using Console.Web.Components.Pages.Settings;
using Console.Web.Components.Pages.Status;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using BackupsPage = Console.Web.Components.Pages.Backups.Backups;

namespace Console.Web.Tests.Components;

/// <summary>
/// Continuous backup on the pages, over the console's real services with fakes of the delta history and the
/// point-in-time builder only: "prod" has Continuous on (1 s flush) and members to restore; "staging" has it off.
/// </summary>
public sealed class ContinuousPagesTests() : ConsolePageContext(Settings, services: s => s
    .AddSingleton<FakeDeltaHistory>().AddSingleton<IDeltaHistory>(sp => sp.GetRequiredService<FakeDeltaHistory>())
    .AddSingleton<FakePointInTimeBuilder>().AddSingleton<IPointInTimeBuilder>(sp => sp.GetRequiredService<FakePointInTimeBuilder>()))
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Console:Clusters:0:Name"] = "prod",
        ["Console:Clusters:0:Endpoints:0"] = "http://127.0.0.1:1",
        ["Console:Clusters:0:Backup:Enabled"] = "true",
        ["Console:Clusters:0:Backup:Interval"] = "6h",
        ["Console:Clusters:0:Backup:Targets:0"] = "local",
        ["Console:Clusters:0:Backup:Continuous:Enabled"] = "true",
        ["Console:Clusters:0:Backup:Continuous:FlushInterval"] = "1s",
        ["Console:Clusters:0:Members:0:Name"] = "m1",
        ["Console:Clusters:0:Members:0:PeerUrl"] = "http://127.0.0.1:2",
        ["Console:Clusters:0:Members:0:DataDir"] = "/var/lib/etcd",
        ["Console:Clusters:0:Members:0:Control"] = "Manual",
        ["Console:Clusters:1:Name"] = "staging",
        ["Console:Clusters:1:Endpoints:0"] = "http://127.0.0.1:1",
        ["Console:Clusters:1:Backup:Enabled"] = "true",
        ["Console:Clusters:1:Backup:Interval"] = "6h",
        ["Console:Clusters:1:Backup:Targets:0"] = "local",
    };

    private static readonly ClusterName Prod = ClusterName.Parse("prod");

    private FakeDeltaHistory History => Services.GetRequiredService<FakeDeltaHistory>();

    /// <summary>Revisions 100 to 250, from an hour ago to <paramref name="durableSecondsAgo"/>, and a break if asked.</summary>
    private static RecoverableWindow Window(DateTimeOffset now, double durableSecondsAgo, ContinuityBreak? broke = null) => new(
        Prod, true, [new RecoverableSpan(100, 250, now.AddHours(-1).AddMilliseconds(-400), now.AddSeconds(-durableSecondsAgo), "prod_20261202T110000.000Z.db")],
        broke is null ? [] : [broke], now.AddSeconds(-durableSecondsAgo));

    [Fact]
    public async Task The_status_row_shows_the_window_rpo_and_breaks_and_only_for_a_continuous_cluster()
    {
        var now = DateTimeOffset.UtcNow;
        History.Set(Window(now, 2));

        var page = RenderPage<Home>();

        var row = await page.WaitForElementAsync("[data-testid=backup-status-row][data-cluster=prod]");
        var window = page.Find("[data-testid=continuous-row][data-cluster=prod] [data-testid=recoverable-window]");
        Assert.Equal("Ok", window.GetAttribute("data-state"));
        var (from, to) = (now.AddHours(-1).AddMilliseconds(-400), now.AddSeconds(-2));
        var expected = $"any revision from 100 to 250, any second from {Second(from, up: true)} UTC to {Second(to, up: false)} UTC";
        Assert.Equal(expected, window.QuerySelector("[data-testid=window-range]")!.TextContent.Trim());
        Assert.InRange(long.Parse(window.QuerySelector("[data-testid=rpo]")!.GetAttribute("data-rpo-seconds")!, System.Globalization.CultureInfo.InvariantCulture), 2, 20);
        Assert.Equal("0", window.QuerySelector("[data-testid=breaks]")!.GetAttribute("data-count"));
        Assert.NotEqual("Stale", row.GetAttribute("data-state"));

        // Continuous off: nothing new on its row.
        Assert.NotNull(page.Find("[data-testid=backup-status-row][data-cluster=staging]"));
        Assert.Empty(page.FindAll("[data-testid=continuous-row][data-cluster=staging]"));
        Assert.Single(page.FindAll("[data-testid=recoverable-window]"));
    }

    [Fact]
    public async Task The_row_stands_out_when_the_rpo_is_too_old()
    {
        History.Set(Window(DateTimeOffset.UtcNow, 120));

        var page = RenderPage<Home>();

        var row = await page.WaitForElementAsync("[data-testid=backup-status-row][data-cluster=prod]");
        Assert.Equal("Stale", row.GetAttribute("data-state"));
        Assert.Equal("Alert", page.Find("[data-testid=continuous-row][data-cluster=prod] [data-testid=recoverable-window]").GetAttribute("data-state"));
        Assert.Contains("behind (RPO), more than 30s", row.QuerySelector("[data-testid=stale-reason]")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_row_stands_out_when_a_break_is_newer_than_the_current_span()
    {
        var now = DateTimeOffset.UtcNow;
        History.Set(Window(now, 1, new ContinuityBreak(250, null, now.AddMinutes(-2), "the watcher fell behind a compaction")));

        var page = RenderPage<Home>();

        var row = await page.WaitForElementAsync("[data-testid=backup-status-row][data-cluster=prod]");
        Assert.Equal("Stale", row.GetAttribute("data-state"));
        var breaks = page.Find("[data-testid=continuous-row][data-cluster=prod] [data-testid=breaks]");
        Assert.Equal("1", breaks.GetAttribute("data-count"));
        Assert.Contains("the watcher fell behind a compaction", breaks.TextContent, StringComparison.Ordinal);
        Assert.Contains("continuity broke", row.QuerySelector("[data-testid=stale-reason]")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dashboard_has_a_card_per_continuous_cluster_with_its_window_rpo_and_breaks()
    {
        var now = DateTimeOffset.UtcNow;
        var old = new ContinuityBreak(90, 100, now.AddHours(-2), "segment prod_x.delta failed its check");
        History.Set(new RecoverableWindow(Prod, true,
            [new RecoverableSpan(10, 90, now.AddHours(-3), now.AddHours(-2), "prod_20261202T090000.000Z.db"), new RecoverableSpan(100, 250, now.AddHours(-1), now.AddSeconds(-3), "prod_20261202T110000.000Z.db")],
            [old], now.AddSeconds(-3)));

        var page = RenderPage<BackupsPage>();

        var card = await page.WaitForElementAsync("[data-testid=continuous-card][data-cluster=prod]");
        Assert.Single(page.FindAll("[data-testid=continuous-card]"));
        Assert.Equal("Ok", card.GetAttribute("data-state")); // the break is older than the current span
        Assert.Contains("any revision from 100 to 250", card.QuerySelector("[data-testid=window-range]")!.TextContent, StringComparison.Ordinal);
        Assert.NotNull(card.QuerySelector("[data-testid=rpo]")!.GetAttribute("data-rpo-seconds"));
        Assert.Equal(["100", "10"], card.QuerySelectorAll("[data-testid=window-span]").Select(s => s.GetAttribute("data-from")!));
        var listed = Assert.Single(card.QuerySelectorAll("[data-testid=window-break]"));
        Assert.Contains("failed its check", listed.TextContent, StringComparison.Ordinal);
        Assert.Contains("resumed at revision 100", listed.TextContent, StringComparison.Ordinal);
        Assert.Contains(" s of changes", page.Find("[data-testid=backup-now-card][data-cluster=prod] [data-testid=would-lose]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_show_each_clusters_continuous_settings()
    {
        var page = RenderPage<Settings>();

        await page.WaitForElementAsync("[data-testid=settings-card][data-cluster=prod] [data-testid=effective-continuous]");
        var prod = page.Find("[data-testid=settings-card][data-cluster=prod] [data-testid=effective-continuous]");
        var staging = page.Find("[data-testid=settings-card][data-cluster=staging] [data-testid=effective-continuous]");
        Assert.Equal("on", prod.GetAttribute("data-state"));
        Assert.Contains("flush interval 1s", prod.TextContent, StringComparison.Ordinal);
        Assert.Contains("8,388,608 bytes", prod.TextContent, StringComparison.Ordinal);
        Assert.Equal("off", staging.GetAttribute("data-state"));
        Assert.Equal("disabled", staging.TextContent.Trim());
    }

    [Fact]
    public async Task The_wizard_refuses_a_point_outside_the_window_or_garbage_and_records_a_good_one_and_shows_the_build()
    {
        var now = DateTimeOffset.UtcNow;
        History.Set(Window(now, 1));
        var builder = Services.GetRequiredService<FakePointInTimeBuilder>();
        var page = RenderPage<RestoreWizardPage>();
        await page.WaitForElementAsync("[data-testid=begin]");
        await page.ClickAsync("[data-testid=begin]");
        await page.WaitForElementAsync("[data-testid=pit-form]");
        Assert.Contains("any revision from 100 to 250", page.Find("[data-testid=pit-window]").TextContent, StringComparison.Ordinal);

        async Task<string> RefusedAsync(string time, string revision)
        {
            page.Find("#pit-time").Input(time);
            page.Find("#pit-revision").Input(revision);
            await page.ClickAsync("[data-testid=pit-choose]");
            Assert.Equal("Choose", page.Find("[data-testid=restore-panel]").GetAttribute("data-step"));
            return page.Find("[data-testid=pit-error]").TextContent;
        }

        Assert.Contains("is not a UTC time to the second", await RefusedAsync("yesterday at noon", ""), StringComparison.Ordinal);
        Assert.Contains("is not a revision", await RefusedAsync("", "12abc"), StringComparison.Ordinal);
        Assert.Contains("not both", await RefusedAsync("2026-12-02 10:00:00", "120"), StringComparison.Ordinal);
        Assert.Contains("outside the recoverable window", await RefusedAsync("", "251"), StringComparison.Ordinal);
        var beforeWindow = now.AddHours(-2).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("outside the recoverable window", await RefusedAsync(beforeWindow, ""), StringComparison.Ordinal);
        var wizard = Services.GetRequiredService<RestoreWizard>();
        Assert.Null((await wizard.CurrentAsync("prod", CancellationToken.None))!.PointInTime);

        var inside = now.AddMinutes(-30).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        page.Find("#pit-time").Input(inside);
        page.Find("#pit-revision").Input("");
        await page.ClickAsync("[data-testid=pit-choose]");

        await page.WaitForAssertionAsync(() => Assert.Equal("Verify", page.Find("[data-testid=restore-panel]").GetAttribute("data-step")));
        var recorded = (await wizard.CurrentAsync("prod", CancellationToken.None))!;
        Assert.Equal(RestoreStep.Verify, recorded.Step);
        Assert.Equal(PointInTimeTarget.AtTime(DateTimeOffset.Parse(inside + "Z", System.Globalization.CultureInfo.InvariantCulture)), recorded.PointInTime);
        Assert.Equal(RestoreWizard.PointInTimeSource, recorded.SnapshotTarget);
        Assert.Equal(recorded.PointInTime!.ToString(), page.Find("[data-testid=pit-verify-note]").GetAttribute("data-target"));

        // Verify: the build's progress shows while it runs; its failure keeps the wizard at Verify with the reason.
        builder.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        builder.Failure = "no base snapshot at or below the target";
        var verify = page.Find("[data-testid=verify]").ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs());
        var progress = await page.WaitForElementAsync("[data-testid=pit-progress]");
        Assert.Equal("replaying", progress.GetAttribute("data-phase"));
        Assert.Equal("40", progress.GetAttribute("data-revision"));
        builder.Hold.SetResult();
        await verify;

        await page.WaitForAssertionAsync(() => Assert.Contains("no base snapshot at or below the target", page.Find("[data-testid=wizard-message]").TextContent, StringComparison.Ordinal));
        Assert.Equal("Verify", page.Find("[data-testid=restore-panel]").GetAttribute("data-step"));
        Assert.Empty(page.FindAll("[data-testid=pit-progress]"));
    }

    [Fact]
    public async Task A_window_that_cannot_be_read_leaves_the_snapshots_choosable_and_says_why()
    {
        History.Failure = new IOException("the delta ledger is locked");
        var page = RenderPage<RestoreWizardPage>();
        await page.WaitForElementAsync("[data-testid=begin]");

        await page.ClickAsync("[data-testid=begin]");

        await page.WaitForAssertionAsync(() => Assert.Equal("Choose", page.Find("[data-testid=restore-panel]").GetAttribute("data-step")));
        Assert.Contains("the delta ledger is locked", page.Find("[data-testid=pit-unavailable]").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=pit-form]"));
        Assert.NotNull(page.Find("[data-testid=candidates]"));
    }

    private static string Second(DateTimeOffset t, bool up)
    {
        var whole = new DateTimeOffset(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        return (up && whole < t ? whole.AddSeconds(1) : whole).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
    }
}
