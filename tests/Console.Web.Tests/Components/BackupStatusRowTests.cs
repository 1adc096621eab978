using Bunit;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using MudBlazor.Services;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Scheduling;
using Console.Infrastructure.Storage;
using Console.Web.Components.Pages.Status;

namespace Console.Web.Tests.Components;

public sealed class BackupStatusRowTests : BunitContext, IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private static readonly BackupPolicy SixHours = new(true, TimeSpan.FromHours(6), null, false, RetentionPolicy.Default, ["local"]);

    // bunit's own context, as the app runs it: interactive server rendering, MudBlazor's services (tooltips need the
    // popover provider), and JS calls answered loosely (behaviour that lives in the browser is tested with Playwright).
    public BackupStatusRowTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;

        // After the services: setting it builds the renderer, which closes the service collection.
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        Render<MudPopoverProvider>();
    }

    private static BackupRecord Record(BackupStatus status, double hoursAgo, string? error = null) =>
        new() { Cluster = "prod", Status = status, StartedAt = Now.AddHours(-hoursAgo), FinishedAt = Now.AddHours(-hoursAgo).AddMinutes(1), Error = error };

    private IRenderedComponent<BackupStatusRowView> RenderRow(BackupPolicy policy, BackupRecord? attempt, BackupRecord? success, bool running = false, int failures = 0, Action<ComponentParameterCollectionBuilder<BackupStatusRowView>>? more = null)
    {
        var health = BackupHealth.Evaluate("prod", policy, policy.Interval, attempt, success, failures, running, Now.AddHours(2), Now);
        var row = new BackupStatusRow(health, [new StorageHealth("local", true, "/data is writable", 5L * 1024 * 1024 * 1024, Now.AddMinutes(-1))]);
        return Render<BackupStatusRowView>(p =>
        {
            p.Add(r => r.Row, row).Add(r => r.Now, Now);
            more?.Invoke(p);
        });
    }

    /// <summary>The row's state, the badge's own state, and the badge's words: all three must agree.</summary>
    private static (string Row, string Badge, string Text) Shown(IRenderedComponent<BackupStatusRowView> row) =>
        (row.Find("tr").GetAttribute("data-state")!, row.Find("[data-testid=backup-state]").GetAttribute("data-state")!, row.Find("[data-testid=backup-state]").TextContent.Trim());

    [Fact]
    public void Ok_is_green_with_the_last_success_and_next_run()
    {
        var row = RenderRow(SixHours, Record(BackupStatus.Succeeded, 1), Record(BackupStatus.Succeeded, 1));

        Assert.Equal(("Ok", "Ok", "Ok"), Shown(row));
        Assert.Equal("59 min ago", row.Find("[data-testid=last-success]").TextContent.Trim());
        Assert.Equal("in 2 h", row.Find("[data-testid=next-run]").TextContent.Trim());
        Assert.Contains("5.0 GiB free", row.Find("[data-testid=storage-health]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Error_is_red_with_the_error_text_and_failure_count()
    {
        var row = RenderRow(SixHours, Record(BackupStatus.Failed, 0.5, "cannot reach 10.0.0.1:2379: connection refused"), Record(BackupStatus.Succeeded, 3), failures: 3);

        Assert.Equal(("Error", "Error", "Error"), Shown(row));
        Assert.Contains("connection refused", row.Find("[data-testid=last-error]").TextContent, StringComparison.Ordinal);
        var failures = row.Find("[data-testid=failures]");
        Assert.Equal(("Error", "3"), (failures.GetAttribute("data-state"), failures.TextContent.Trim()));
    }

    [Fact]
    public void Running_is_blue()
    {
        var row = RenderRow(SixHours, Record(BackupStatus.Succeeded, 1), Record(BackupStatus.Succeeded, 1), running: true, more: p => p.Add(r => r.OnBackUpNow, _ => { }));

        Assert.Equal(("Running", "Running", "Running"), Shown(row));
        Assert.True(row.Find("[data-testid=backup-now]").HasAttribute("disabled"), "Back up now waits for the run in flight");
    }

    [Fact]
    public void Stale_is_red_with_its_reason_even_when_the_last_attempt_succeeded_long_ago()
    {
        var row = RenderRow(SixHours, Record(BackupStatus.Succeeded, 20), Record(BackupStatus.Succeeded, 20));

        Assert.Equal(("Stale", "Stale", "Stale"), Shown(row));
        Assert.Contains("more than twice the 6h schedule", row.Find("[data-testid=stale-reason]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Paused_is_grey_with_no_next_run()
    {
        var row = RenderRow(SixHours with { Paused = true }, Record(BackupStatus.Succeeded, 20), Record(BackupStatus.Succeeded, 20));

        Assert.Equal(("Paused", "Paused", "Paused"), Shown(row));
        Assert.Equal("paused", row.Find("[data-testid=next-run]").TextContent.Trim());
        Assert.Empty(row.FindAll("[data-testid=stale-reason]"));
    }

    [Fact]
    public void A_cluster_without_a_schedule_says_Disabled_and_offers_no_pause()
    {
        var row = RenderRow(BackupPolicy.Default, null, null, more: p => p.Add(r => r.OnTogglePause, _ => { }).Add(r => r.OnBackUpNow, _ => { }));

        Assert.Equal(("Disabled", "Disabled", "Disabled"), Shown(row));
        Assert.Empty(row.FindAll("[data-testid=toggle-pause]"));
        Assert.False(row.Find("[data-testid=backup-now]").HasAttribute("disabled"));
    }

    [Fact]
    public void A_configuration_error_is_shown_in_the_row()
    {
        var health = BackupHealth.Evaluate("prod", SixHours, SixHours.Interval, null, null, 0, false, null, Now, configurationError: "the schedule could not be applied: boom");
        var row = Render<BackupStatusRowView>(p => p.Add(r => r.Row, new BackupStatusRow(health, [])).Add(r => r.Now, Now));

        Assert.Equal("the schedule could not be applied: boom", row.Find("[data-testid=configuration-error]").TextContent.Trim());
    }

    [Fact]
    public void Pause_and_back_up_now_report_the_cluster_and_are_absent_without_callbacks()
    {
        var asked = new List<string>();
        var row = RenderRow(SixHours, Record(BackupStatus.Succeeded, 1), Record(BackupStatus.Succeeded, 1), more: p => p
            .Add(r => r.OnTogglePause, c => asked.Add($"pause {c}"))
            .Add(r => r.OnBackUpNow, c => asked.Add($"backup {c}")));

        row.Find("[data-testid=toggle-pause]").Click();
        row.Find("[data-testid=backup-now]").Click();

        Assert.Equal(["pause prod", "backup prod"], asked);
        Assert.Equal("Pause", row.Find("[data-testid=toggle-pause]").TextContent.Trim());
        var viewer = RenderRow(SixHours, Record(BackupStatus.Succeeded, 1), Record(BackupStatus.Succeeded, 1));
        Assert.Empty(viewer.FindAll("button"));
    }

    private static DrillVerdict Drill(DrillOutcome outcome, double minutesAgo, string? reason = null, double rtoSeconds = 3.5) => new()
    {
        Cluster = "prod",
        FileName = "prod_20261121T110000.000Z.db",
        Target = "s3",
        Outcome = outcome,
        Reason = reason,
        Rto = outcome == DrillOutcome.Passed ? TimeSpan.FromSeconds(rtoSeconds) : null,
        StartedAt = Now.AddMinutes(-minutesAgo - 1),
        FinishedAt = Now.AddMinutes(-minutesAgo),
    };

    private IRenderedComponent<BackupStatusRowView> RenderProof(BackupProof proof)
    {
        var health = BackupHealth.Evaluate("prod", SixHours, SixHours.Interval, Record(BackupStatus.Succeeded, 1), Record(BackupStatus.Succeeded, 1), 0, false, Now.AddHours(2), Now);
        return Render<BackupStatusRowView>(p => p.Add(r => r.Row, new BackupStatusRow(health, []) { Proof = proof }).Add(r => r.Now, Now));
    }

    [Fact]
    public void A_passed_drill_shows_when_which_copy_and_its_rto_and_the_row_stays_ok()
    {
        var passed = Drill(DrillOutcome.Passed, 30);
        var row = RenderProof(new BackupProof(passed, passed, []));

        Assert.Equal("Ok", row.Find("tr").GetAttribute("data-proof"));
        Assert.Equal("Passed", row.Find("[data-testid=last-drill]").GetAttribute("data-state"));
        Assert.Contains("passed 30 min ago", row.Find("[data-testid=last-drill]").TextContent, StringComparison.Ordinal);
        Assert.Equal("s3 copy of 2026-11-21 11:00:00 UTC", row.Find("[data-testid=drill-copy]").TextContent.Trim());
        Assert.Equal("prod_20261121T110000.000Z.db", row.Find("[data-testid=drill-copy]").GetAttribute("title"));
        Assert.Equal("RTO 3.5 s", row.Find("[data-testid=drill-rto]").TextContent.Trim());
    }

    [Fact]
    public void A_failed_last_drill_makes_the_row_stand_out_with_the_reason_and_the_last_pass_rto()
    {
        var row = RenderProof(new BackupProof(Drill(DrillOutcome.Failed, 10, "revision 812 differs from the record's 815"), Drill(DrillOutcome.Passed, 60 * 24, rtoSeconds: 12), []));

        Assert.Equal("Failing", row.Find("tr").GetAttribute("data-proof"));
        Assert.Equal("Failed", row.Find("[data-testid=last-drill]").GetAttribute("data-state"));
        Assert.Equal("revision 812 differs from the record's 815", row.Find("[data-testid=drill-reason]").TextContent.Trim());
        Assert.Contains("RTO 12.0 s (last pass, 24 h ago)", row.Find("[data-testid=drill-rto]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Never_drilled_is_said_plainly_and_a_failed_re_verification_stands_out()
    {
        var never = RenderProof(BackupProof.None);
        Assert.Equal("Never", never.Find("[data-testid=last-drill]").GetAttribute("data-state"));
        Assert.Contains("never drilled", never.Find("[data-testid=last-drill]").TextContent, StringComparison.Ordinal);
        Assert.Equal("Ok", never.Find("tr").GetAttribute("data-proof"));
        Assert.Empty(never.FindAll("[data-testid=verification-problem]"));

        var rotten = new Console.Infrastructure.Persistence.Verification("prod_20261121T110000.000Z.db", "local", Now, false, "the footer's sha256 does not match its content", SnapshotCatalog.ReverificationBy);
        var row = RenderProof(BackupProof.None with { FailedVerifications = [rotten] });

        Assert.Equal("Failing", row.Find("tr").GetAttribute("data-proof"));
        Assert.Equal("1 copy failed re-verification: local/prod_20261121T110000.000Z.db: the footer's sha256 does not match its content", row.Find("[data-testid=verification-problem]").TextContent.Trim());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // Some services are IAsyncDisposable only, which bunit's synchronous Dispose (xunit v2's) cannot dispose.
    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}
