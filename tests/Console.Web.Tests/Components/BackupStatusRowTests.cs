using Bunit;
using Microsoft.AspNetCore.Components;
using Radzen;
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

    // bunit's own context, as the app runs it: interactive server rendering, Radzen's services, and JS calls
    // answered loosely (behaviour that lives in the browser is tested with Playwright).
    public BackupStatusRowTests()
    {
        Services.AddRadzenComponents();
        JSInterop.Mode = JSRuntimeMode.Loose;

        // After the services: setting it builds the renderer, which closes the service collection.
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    private static BackupRecord Record(BackupStatus status, double hoursAgo, string? error = null) =>
        new() { Cluster = "prod", Status = status, StartedAt = Now.AddHours(-hoursAgo), FinishedAt = Now.AddHours(-hoursAgo).AddMinutes(1), Error = error };

    private IRenderedComponent<BackupStatusRowView> RenderRow(BackupPolicy policy, BackupRecord? attempt, BackupRecord? success, bool running = false, int failures = 0)
    {
        var health = BackupHealth.Evaluate("prod", policy, policy.Interval, attempt, success, failures, running, Now.AddHours(2), Now);
        var row = new BackupStatusRow(health, [new StorageHealth("local", true, "/data is writable", 5L * 1024 * 1024 * 1024, Now.AddMinutes(-1))]);
        return Render<BackupStatusRowView>(p => p.Add(r => r.Row, row).Add(r => r.Now, Now));
    }

    private static (string State, string Badge, string BadgeClass) Shown(IRenderedComponent<BackupStatusRowView> row) =>
        (row.Find("tr").GetAttribute("data-state")!, row.Find("[data-testid=backup-state]").TextContent.Trim(), row.Find("[data-testid=backup-state]").ClassName!);

    [Fact]
    public void Ok_is_green_with_the_last_success_and_next_run()
    {
        var row = RenderRow(SixHours, Record(BackupStatus.Succeeded, 1), Record(BackupStatus.Succeeded, 1));

        var (state, badge, css) = Shown(row);
        Assert.Equal(("Ok", "Ok"), (state, badge));
        Assert.Contains("rz-badge-success", css, StringComparison.Ordinal);
        Assert.Equal("59 min ago", row.Find("[data-testid=last-success]").TextContent.Trim());
        Assert.Equal("in 2 h", row.Find("[data-testid=next-run]").TextContent.Trim());
        Assert.Contains("5.0 GiB free", row.Find("[data-testid=storage-health]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Error_is_red_with_the_error_text_and_failure_count()
    {
        var row = RenderRow(SixHours, Record(BackupStatus.Failed, 0.5, "cannot reach 10.0.0.1:2379: connection refused"), Record(BackupStatus.Succeeded, 3), failures: 3);

        var (state, badge, css) = Shown(row);
        Assert.Equal(("Error", "Error"), (state, badge));
        Assert.Contains("rz-badge-danger", css, StringComparison.Ordinal);
        Assert.Contains("connection refused", row.Markup, StringComparison.Ordinal);
        Assert.Contains(">3<", row.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void Running_is_blue()
    {
        var (state, badge, css) = Shown(RenderRow(SixHours, Record(BackupStatus.Succeeded, 1), Record(BackupStatus.Succeeded, 1), running: true));

        Assert.Equal(("Running", "Running"), (state, badge));
        Assert.Contains("rz-badge-info", css, StringComparison.Ordinal);
    }

    [Fact]
    public void Stale_is_red_with_its_reason_even_when_the_last_attempt_succeeded_long_ago()
    {
        var row = RenderRow(SixHours, Record(BackupStatus.Succeeded, 20), Record(BackupStatus.Succeeded, 20));

        var (state, badge, css) = Shown(row);
        Assert.Equal(("Stale", "Stale"), (state, badge));
        Assert.Contains("rz-badge-danger", css, StringComparison.Ordinal);
        Assert.Contains("more than twice the 6h schedule", row.Find("[data-testid=stale-reason]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Paused_is_grey_with_no_next_run()
    {
        var row = RenderRow(SixHours with { Paused = true }, Record(BackupStatus.Succeeded, 20), Record(BackupStatus.Succeeded, 20));

        var (state, badge, css) = Shown(row);
        Assert.Equal(("Paused", "Paused"), (state, badge));
        Assert.Contains("rz-badge-light", css, StringComparison.Ordinal);
        Assert.Equal("paused", row.Find("[data-testid=next-run]").TextContent.Trim());
        Assert.Empty(row.FindAll("[data-testid=stale-reason]"));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // Some services are IAsyncDisposable only, which bunit's synchronous Dispose (xunit v2's) cannot dispose.
    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}
