using Console.Domain.Backups;

namespace Console.Web.Components.Shared;

/// <summary>A backup's outcome as people read it (the enum's name stays in data-state for tests and scripts).</summary>
internal static class StatusText
{
    public static string Of(BackupStatus status) => status switch
    {
        BackupStatus.PartiallySucceeded => "Partially succeeded",
        _ => status.ToString(),
    };

    public static string Of(BackupStatus? status) => status is { } s ? Of(s) : string.Empty;
}
