using Console.Domain.Access;
using MudBlazor;

namespace Console.Web.Components.Layout;

/// <summary>The navigation menu as data: one entry per feature page, with its icon (an SVG path) and the least role that may open it.</summary>
internal static class NavigationItems
{
    /// <param name="FullPage">Served outside Blazor (Hangfire's dashboard): the browser loads it, Blazor's router does not.</param>
    public sealed record Item(string Text, string Path, string Icon, Role Role, bool FullPage = false);

    public static readonly IReadOnlyList<Item> All =
    [
        new("Cluster status", "/", Icons.Material.Filled.MonitorHeart, Role.Viewer),
        new("Backups", "/backups", Icons.Material.Filled.Backup, Role.Viewer),
        new("Snapshots", "/snapshots", Icons.Material.Filled.Inventory2, Role.Viewer),
        new("Restore", "/restore", Icons.Material.Filled.SettingsBackupRestore, Role.Admin),
        new("Settings", "/settings", Icons.Material.Filled.Settings, Role.Viewer),
        new("Audit log", "/audit", Icons.Material.Filled.FactCheck, Role.Viewer),
        new("Users and tokens", "/users", Icons.Material.Filled.Group, Role.Admin),
        new("Jobs (Hangfire)", "/hangfire", Icons.Material.Filled.Schedule, Role.Admin, FullPage: true),
    ];

    public static IEnumerable<Item> For(Role? role) => All.Where(i => role >= i.Role);
}
