using Bunit;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Scheduling;
using Console.Infrastructure.Storage;
using Console.Web.Components.Pages.Status;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Components;

/// <summary>One cluster with a six-hourly schedule; nothing listens at its endpoint and no poller runs, so it is not polled yet.</summary>
public sealed class HomePageTests() : ConsolePageContext(Cluster)
{
    internal static readonly Dictionary<string, string?> Cluster = new()
    {
        ["Console:Clusters:0:Name"] = "prod",
        ["Console:Clusters:0:Endpoints:0"] = "http://127.0.0.1:1",
        ["Console:Clusters:0:Backup:Enabled"] = "true",
        ["Console:Clusters:0:Backup:Interval"] = "6h",
        ["Console:Clusters:0:Backup:Targets:0"] = "local",
    };

    [Fact]
    public async Task A_failed_backup_shows_as_Error_and_a_pause_arrives_live_as_Paused()
    {
        var records = Services.GetRequiredService<BackupRecordStore>();
        var now = DateTimeOffset.UtcNow;
        await records.InsertFinishedAsync(new BackupRecord { Cluster = "prod", Trigger = BackupTrigger.Scheduled, RequestedBy = "scheduler", Status = BackupStatus.Failed, StartedAt = now.AddMinutes(-5), FinishedAt = now.AddMinutes(-4), Error = "cannot reach 127.0.0.1:1: connection refused" }, CancellationToken.None);

        var page = RenderPage<Home>();

        var row = await page.WaitForElementAsync("[data-testid=backup-status-row][data-cluster=prod]");
        Assert.Equal("Error", row.GetAttribute("data-state"));
        Assert.Equal("Error", page.Find("[data-testid=backup-state]").GetAttribute("data-state"));
        Assert.Contains("connection refused", page.Find("[data-testid=last-error]").TextContent, StringComparison.Ordinal);
        Assert.Equal("Unknown", page.Find("[data-testid=cluster-card][data-cluster=prod]").GetAttribute("data-state"));
        Assert.Empty(page.FindAll("[data-testid=no-clusters]"));

        // Someone else pauses it (another browser, the API): the page hears it from its service, without a reload.
        await Services.GetRequiredService<BackupScheduler>().PauseAsync("prod", Actor.System("elsewhere"), CancellationToken.None);
        await page.WaitForAssertionAsync(() => Assert.Equal("Paused", page.Find("[data-testid=backup-status-row]").GetAttribute("data-state")), TimeSpan.FromSeconds(10));
        Assert.Equal("paused", page.Find("[data-testid=next-run]").TextContent.Trim());
    }

    [Fact]
    public async Task The_last_drill_and_a_copy_that_failed_re_verification_come_from_the_ledgers()
    {
        var drills = Services.GetRequiredService<DrillLedger>();
        var started = DateTimeOffset.UtcNow.AddMinutes(-20);
        var passed = new DrillVerdict { Cluster = "prod", FileName = "prod_20261121T100000.000Z.db", Target = "local", StartedAt = started };
        await drills.FinishAsync(passed with { Id = await drills.StartAsync(passed, CancellationToken.None), Outcome = DrillOutcome.Passed, Rto = TimeSpan.FromSeconds(2.5), FinishedAt = started.AddSeconds(3) }, CancellationToken.None);
        var failed = passed with { FileName = "prod_20261121T110000.000Z.db", StartedAt = started.AddMinutes(10) };
        await drills.FinishAsync(failed with { Id = await drills.StartAsync(failed, CancellationToken.None), Outcome = DrillOutcome.Failed, Reason = "canary missing", FinishedAt = started.AddMinutes(11) }, CancellationToken.None);
        var other = failed with { Cluster = "staging", FileName = "staging_20261121T110000.000Z.db" };
        await drills.FinishAsync(other with { Id = await drills.StartAsync(other, CancellationToken.None), Outcome = DrillOutcome.Passed, FinishedAt = started.AddMinutes(12) }, CancellationToken.None);
        await Services.GetRequiredService<SnapshotLedger>().RecordVerificationAsync(
            new Verification("prod_20261121T100000.000Z.db", "local", DateTimeOffset.UtcNow, false, "the footer's sha256 does not match its content", SnapshotCatalog.ReverificationBy), CancellationToken.None);

        var page = RenderPage<Home>();

        var cell = await page.WaitForElementAsync("[data-testid=last-drill]");
        Assert.Equal("Failing", page.Find("[data-testid=backup-status-row]").GetAttribute("data-proof"));
        Assert.Equal("Failed", cell.GetAttribute("data-state"));
        Assert.Equal("canary missing", page.Find("[data-testid=drill-reason]").TextContent.Trim());
        Assert.StartsWith("RTO 2.5 s (last pass", page.Find("[data-testid=drill-rto]").TextContent.Trim(), StringComparison.Ordinal);
        Assert.StartsWith("1 copy failed re-verification: local/prod_20261121T100000.000Z.db", page.Find("[data-testid=verification-problem]").TextContent.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resume_from_the_page_goes_through_the_service_as_the_signed_in_user()
    {
        var page = RenderPage<Home>();

        await page.WaitForElementAsync("[data-testid=toggle-pause]");
        await page.ClickAsync("[data-testid=toggle-pause]");
        await page.WaitForAssertionAsync(() => Assert.Equal("Paused", page.Find("[data-testid=backup-status-row]").GetAttribute("data-state")), TimeSpan.FromSeconds(10));
        await page.ClickAsync("[data-testid=toggle-pause]");
        await page.WaitForAssertionAsync(() => Assert.NotEqual("Paused", page.Find("[data-testid=backup-status-row]").GetAttribute("data-state")), TimeSpan.FromSeconds(10));
    }
}

public sealed class HomePageWithoutClustersTests() : ConsolePageContext(new Dictionary<string, string?>())
{
    [Fact]
    public async Task No_clusters_says_how_to_add_one_and_shows_no_table()
    {
        var page = RenderPage<Home>();

        Assert.Contains("No clusters configured", (await page.WaitForElementAsync("[data-testid=no-clusters]")).TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=backup-status-table]"));
        Assert.Empty(page.FindAll("[data-testid=cluster-card]"));
    }
}

public sealed class HomePageWithUnreadableRecordsTests() : ConsolePageContext(HomePageTests.Cluster, migrate: false)
{
    [Fact]
    public async Task Records_that_cannot_be_read_are_an_error_in_words_and_the_cluster_is_still_shown()
    {
        var page = RenderPage<Home>();

        Assert.Contains("Reading the backup records failed", (await page.WaitForElementAsync("[data-testid=status-error]")).TextContent, StringComparison.Ordinal);
        Assert.Single(page.FindAll("[data-testid=cluster-card][data-cluster=prod]"));
        Assert.Empty(page.FindAll("[data-testid=no-clusters]"));
    }
}

public sealed class HomePageForViewersTests() : ConsolePageContext(HomePageTests.Cluster, Role.Viewer)
{
    [Fact]
    public async Task Viewers_get_the_table_without_buttons()
    {
        var page = RenderPage<Home>();

        await page.WaitForElementAsync("[data-testid=backup-status-row]");
        Assert.Empty(page.FindAll("[data-testid=backup-status-row] button"));
    }
}
