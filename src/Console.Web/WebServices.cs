using Console.Web.Access;
using Console.Web.Api;
using Console.Web.Components;
using Console.Web.Scheduling;
using MudBlazor.Services;
using Radzen;

namespace Console.Web;

internal static class WebServices
{
    /// <summary>The UI: Blazor Server with interactive server rendering, and Radzen's services (dialogs, notifications).</summary>
    public static IServiceCollection AddWebServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddRadzenComponents();
        services.AddMudServices(o => o.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomRight);
        services.AddScoped<Components.Shared.Notifier>();

        // Restore: the wizard page's one service (per circuit: it runs actions as the signed-in admin).
        services.AddScoped<Components.Pages.Restore.RestorePageService>();

        // Shell pages (issue 13): users and tokens, the audit log.
        services.AddScoped<Components.Pages.Users.UsersPageService>();
        services.AddScoped<Components.Pages.Audit.AuditPageService>();

        // Backups pages (dashboard, records, detail): one service over the records, scheduler, runner and progress feed.
        services.AddSingleton<Backups.BackupsPageService>();

        services.AddConsoleAuth(configuration);

        // Status, Settings and Snapshots pages: one service each, per circuit.
        services.AddScoped<Components.Pages.Status.StatusPageService>();
        services.AddScoped<Components.Pages.Settings.SettingsPageService>();
        services.AddScoped<Components.Pages.Snapshots.SnapshotsPageService>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));
        return services;
    }

    public static WebApplication UseConsolePipeline(this WebApplication app)
    {
        app.UseConsoleErrors();
        app.UseConsoleAuth();
        app.UseAntiforgery();

        // Styles and scripts carry no data, and the sign-in page needs them before anyone is signed in.
        app.MapStaticAssets().AllowAnonymous();
        app.MapHealthEndpoints();
        app.MapAccountEndpoints();
        app.MapBackupEndpoints();
        app.MapClusterEndpoints();
        app.MapSnapshotEndpoints();
        app.MapRestoreEndpoints();
        app.MapConsoleHangfireDashboard();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
