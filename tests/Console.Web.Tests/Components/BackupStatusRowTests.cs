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

    public Task InitializeAsync() => Task.CompletedTask;

    // Some services are IAsyncDisposable only, which bunit's synchronous Dispose (xunit v2's) cannot dispose.
    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}
