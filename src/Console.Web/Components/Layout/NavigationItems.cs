namespace Console.Web.Components.Layout;

/// <summary>The navigation menu as data: one entry per feature page.</summary>
internal static class NavigationItems
{
    public sealed record Item(string Text, string Path, string Icon);

    public static readonly IReadOnlyList<Item> All =
    [
        new("Cluster status", "/", "monitor_heart"),
        new("Backups", "/backups", "backup"),
        new("Snapshots", "/snapshots", "inventory_2"),
        new("Restore", "/restore", "settings_backup_restore"),
        new("Settings", "/settings", "settings"),
    ];
}
