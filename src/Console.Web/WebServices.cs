using Console.Web.Access;
using Console.Web.Api;
using Console.Web.Components;
using Console.Web.Scheduling;
using MudBlazor.Services;

namespace Console.Web;

internal static class WebServices
{
    /// <summary>The UI: Blazor Server with interactive server rendering, MudBlazor's services (dialogs, snackbars, popovers), and one service per page.</summary>
    public static IServiceCollection AddWebServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices(o => o.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomRight);
        services.AddScoped<Components.Shared.Notifier>();
        services.AddConsoleAuth(configuration);
        services.AddConsoleMetrics(configuration);

        services.AddPageServices();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));
        return services;
    }

    /// <summary>One service per page (per circuit where it acts as the signed-in user); pages inject nothing else of ours.</summary>
    public static IServiceCollection AddPageServices(this IServiceCollection services)
    {
        services.AddScoped<Components.Pages.Status.StatusPageService>();
        services.AddSingleton<Backups.BackupsPageService>();
        services.AddScoped<Components.Pages.Snapshots.SnapshotsPageService>();
        services.AddScoped<Components.Pages.Settings.SettingsPageService>();
        services.AddScoped<Components.Pages.Restore.RestorePageService>();
        services.AddScoped<Components.Pages.Users.UsersPageService>();
        services.AddScoped<Components.Pages.Audit.AuditPageService>();
        return services;
    }

    public static WebApplication UseConsolePipeline(this WebApplication app)
    {
        app.UseConsoleErrors();

        // Routing after the error and status-code handlers, so a re-executed request (404 -> /not-found) is routed again.
        app.UseRouting();
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
        app.MapPointInTimeEndpoints();
        app.MapMetricsEndpoint();
        app.MapConsoleHangfireDashboard();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
