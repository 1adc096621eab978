using Bunit;
using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Persistence;
using Console.Web.Access;
using Console.Web.Tests.Fixtures;
using Dapper;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using BackupsPage = Console.Web.Components.Pages.Backups.Backups;

namespace Console.Web.Tests.Components;

/// <summary>
/// The Backups dashboard's states, rendered by bUnit over the real services of a console host (real SQLite, real
/// progress feed), so the page, its one service and the store's SQL are the product's own.
/// </summary>
public sealed class BackupsPageTests : BunitContext, IAsyncLifetime
{
    private static readonly Dictionary<string, string?> TwoClusters = new()
    {
        ["Console:Clusters:0:Name"] = "prod",
        ["Console:Clusters:0:Endpoints:0"] = "http://127.0.0.1:9",
        ["Console:Clusters:1:Name"] = "staging",
        ["Console:Clusters:1:Endpoints:0"] = "http://127.0.0.1:9",
    };

    private ConsoleApp? _app;
    private IServiceScope? _scope;

    public Task InitializeAsync() => Task.CompletedTask;

    private ConsoleApp Start(Dictionary<string, string?>? settings = null)
    {
        _app = ConsoleApp.Start(settings);
        _scope = _app.Services.CreateScope();
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        AddAuthorization().SetAuthorized("test-operator").SetPolicies(Policies.Viewer, Policies.Operator);

        // The page's Notifier (internal to the web project) and its snackbars from bunit's services, not the host's,
        // whose navigation belongs to no circuit.
        Services.AddScoped(sp => new CurrentActor(sp.GetRequiredService<AuthenticationStateProvider>(), new HttpContextAccessor()));
        Services.AddScoped<Console.Web.Components.Shared.Notifier>();
        Services.AddFallbackServiceProvider(_scope.ServiceProvider);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return _app;
    }

    private IRenderedComponent<BackupsPage> RenderPage()
    {
        Render<MudPopoverProvider>();
        return Render<BackupsPage>();
    }

    private static string Dashboard(IRenderedComponent<BackupsPage> page) => page.Find("[data-testid=backup-dashboard]").GetAttribute("data-state")!;

    [Fact]
    public void Without_clusters_the_dashboard_says_there_is_nothing_to_back_up()
    {
        Start();

        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Equal("empty", Dashboard(page)));
        Assert.Contains("No clusters are configured", page.Find("[data-testid=dashboard-empty]").TextContent, StringComparison.Ordinal);
        page.WaitForAssertion(() => Assert.Equal("No backups recorded yet.", page.Find("[data-testid=no-records]").TextContent.Trim()));
    }

    [Fact]
    public async Task An_unreadable_database_shows_the_error_instead_of_figures()
    {
        var app = Start(TwoClusters);
        var database = app.Services.GetRequiredService<ConsoleDatabase>();
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync("DROP TABLE backups");
        }

        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Equal("error", Dashboard(page)));
        Assert.Contains("no such table: backups", page.Find("[data-testid=dashboard-error]").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=backup-now-card]"));
        page.WaitForAssertion(() => Assert.Contains("no such table", page.Find("[data-testid=records-error]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void A_running_backup_shows_bytes_percent_speed_and_time_left_as_it_streams()
    {
        var app = Start(TwoClusters);
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Equal("ready", Dashboard(page)));
        var card = () => page.Find("[data-testid=backup-now-card][data-cluster=prod]");
        Assert.Equal("no-backup", card().GetAttribute("data-state"));

        var now = DateTimeOffset.UtcNow;
        app.Services.GetRequiredService<BackupProgressFeed>().Publish(
            new BackupProgress(42, "prod", BackupTrigger.Manual, "test-operator", now.AddSeconds(-10), BackupPhase.Streaming, "m2", 50_000_000, 200_000_000, now));

        page.WaitForAssertion(() => Assert.Equal("running", card().GetAttribute("data-state")));
        var progress = card().QuerySelector("[data-testid=backup-progress]")!;
        Assert.Equal(("running", "Streaming"), (progress.GetAttribute("data-state"), progress.GetAttribute("data-phase")));
        Assert.Equal("47.7 MiB of 190.7 MiB (25%) · 5.0 MB/s · 30 s left from m2", progress.QuerySelector("[data-testid=backup-progress-text]")!.TextContent.Trim());
        Assert.True(card().QuerySelector("[data-testid=backup-now]")!.HasAttribute("disabled"), "Back up now is disabled while a run is in flight");
        Assert.Equal("no-backup", page.Find("[data-testid=backup-now-card][data-cluster=staging]").GetAttribute("data-state"));
    }

    [Fact]
    public async Task A_cluster_with_history_shows_its_last_good_backup_rates_and_stored_bytes()
    {
        var app = Start(TwoClusters);
        var records = app.Services.GetRequiredService<BackupRecordStore>();
        var ledger = app.Services.GetRequiredService<SnapshotLedger>();
        var now = DateTimeOffset.UtcNow;
        foreach (var (hoursAgo, status) in new[] { (1.5, BackupStatus.Succeeded), (5.0, BackupStatus.Failed), (24 * 10.0, BackupStatus.Succeeded), (24 * 11.0, BackupStatus.Failed) })
        {
            var started = now.AddHours(-hoursAgo);
            var record = new BackupRecord { Cluster = "prod", StartedAt = started };
            var id = await records.InsertRunningAsync(record, CancellationToken.None);
            var good = status == BackupStatus.Succeeded;
            await records.UpdateAsync(record with { Id = id, Status = status, FinishedAt = started.AddSeconds(4), SizeBytes = good ? 2_000_000 : null }, CancellationToken.None);
            if (good)
            {
                await ledger.SaveCopyAsync(new BackupCopy(id, "local", CopyStatus.Stored, null, null, 1), now, CancellationToken.None);
            }
        }

        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Equal("ready", Dashboard(page)));
        var card = page.Find("[data-testid=backup-now-card][data-cluster=prod]");
        string Figure(string id) => card.QuerySelector($"[data-testid={id}]")!.TextContent.Trim();
        Assert.Equal("backed-up", card.GetAttribute("data-state"));
        Assert.StartsWith("90 min ago", Figure("last-good"), StringComparison.Ordinal);
        Assert.Equal("90 min of changes", Figure("would-lose"));
        Assert.Equal("50% (1 of 2)", Figure("success-7d"));
        Assert.Equal("50% (2 of 4)", Figure("success-30d"));
        Assert.Equal("local: 3.8 MiB in 2 copies", Figure("stored"));
        Assert.Equal("not scheduled", Figure("next-run"));
        Assert.Equal("ready", page.Find("[data-testid=backup-charts]").GetAttribute("data-state"));
    }

    // Some services are IAsyncDisposable only, which bunit's synchronous Dispose (xunit v2's) cannot dispose; the
    // host goes after the renderer that uses its services.
    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        _scope?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
