using Console.Domain.Backups;
using MudBlazor;

namespace Console.Web.Components.Pages.Status;

/// <summary>What the status table's badge says about a cluster's backups, as its <c>data-state</c>.</summary>
public enum BackupRowState
{
    Unknown,
    Ok,
    Disabled,
    Error,
    Stale,
    Paused,
    Running,
}

internal static class BackupRowStates
{
    /// <summary>
    /// Running beats Paused beats Stale beats the last attempt's outcome: a cluster whose last success is too old is
    /// Stale whatever the last attempt says. A cluster without a schedule says Disabled unless its last attempt failed.
    /// A continuous window that fell behind or broke is Stale even when the schedule is paused: the watcher still runs.
    /// </summary>
    public static BackupRowState Of(BackupHealth health) => health switch
    {
        { LastStatus: LastBackupState.Running } => BackupRowState.Running,
        { Continuous.Alert: true } => BackupRowState.Stale,
        { Paused: true } => BackupRowState.Paused,
        { Stale: true } => BackupRowState.Stale,
        { LastStatus: LastBackupState.Error } => BackupRowState.Error,
        { Configuration: "disabled" } => BackupRowState.Disabled,
        { LastStatus: LastBackupState.Ok } => BackupRowState.Ok,
        _ => BackupRowState.Unknown,
    };

    /// <summary>Red for what needs the operator now; green only for a fresh good backup.</summary>
    public static Color ColorOf(BackupRowState state) => state switch
    {
        BackupRowState.Ok => Color.Success,
        BackupRowState.Running => Color.Info,
        BackupRowState.Error or BackupRowState.Stale => Color.Error,
        _ => Color.Default,
    };
}
