using Console.Domain.Access;

namespace Console.Web.Components.Layout;

/// <summary>The navigation menu as data: one entry per feature page, with the least role that may open it.</summary>
internal static class NavigationItems
{
    /// <param name="FullPage">Served outside Blazor (Hangfire's dashboard): the browser loads it, Blazor's router does not.</param>
    public sealed record Item(string Text, string Path, string Icon, Role Role, bool FullPage = false);

    public static readonly IReadOnlyList<Item> All =
    [
        new("Cluster status", "/", "monitor_heart", Role.Viewer),
        new("Backups", "/backups", "backup", Role.Viewer),
        new("Snapshots", "/snapshots", "inventory_2", Role.Viewer),
        new("Restore", "/restore", "settings_backup_restore", Role.Admin),
        new("Settings", "/settings", "settings", Role.Viewer),
        new("Audit log", "/audit", "fact_check", Role.Viewer),
        new("Users and tokens", "/users", "group", Role.Admin),
        new("Jobs (Hangfire)", "/hangfire", "schedule", Role.Admin, FullPage: true),
    ];

    public static IEnumerable<Item> For(Role? role) => All.Where(i => role >= i.Role);
}
