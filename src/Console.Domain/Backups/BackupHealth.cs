namespace Console.Domain.Backups;

/// <summary>The backup state of a cluster at a glance, in the spirit of Omni's EtcdBackupStatus.</summary>
public enum LastBackupState
{
    Unknown,
    Ok,
    Error,
    Running,
}

/// <summary>One row of the backup status table.</summary>
public sealed record BackupHealth(
    string Cluster,
    string Configuration,
    string? ConfigurationError,
    LastBackupState LastStatus,
    string? LastError,
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? LastAttemptAt,
    int ConsecutiveFailures,
    DateTimeOffset? NextRunAt,
    bool Paused,
    bool Stale,
    string? StaleReason)
{
    /// <summary>Continuous backup's window, RPO and breaks; null when Continuous is off for the cluster.</summary>
    public ContinuousHealth? Continuous { get; init; }

    /// <summary>
    /// Derives the row from facts. A cluster is stale when its last success is older than twice its schedule period —
    /// or it has none although its schedule has had that long — whatever the last attempt says (a run can "attempt"
    /// forever and never succeed: omni#1206). Paused clusters are not stale: the operator chose that.
    /// With Continuous on, the row is also stale when its recoverable window has fallen behind or broken
    /// (<see cref="ContinuousHealth.Evaluate"/>): pausing the schedule does not stop the watcher, so that holds when paused too.
    /// </summary>
    public static BackupHealth Evaluate(
        string cluster,
        Clusters.BackupPolicy policy,
        TimeSpan? period,
        BackupRecord? lastAttempt,
        BackupRecord? lastSuccess,
        int consecutiveFailures,
        bool running,
        DateTimeOffset? nextRunAt,
        DateTimeOffset now,
        DateTimeOffset? scheduleSince = null,
        string? configurationError = null,
        RecoverableWindow? window = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var status = running ? LastBackupState.Running
            : lastAttempt is null ? LastBackupState.Unknown
            : lastAttempt.Status == BackupStatus.Succeeded ? LastBackupState.Ok

            // A partial success is a backup (not stale) but a target is failing: the operator must see that.
            : lastAttempt.Status == BackupStatus.Running ? LastBackupState.Running
            : LastBackupState.Error;

        string? staleReason = null;
        if (policy.Enabled && !policy.Paused && period is { } p && p > TimeSpan.Zero)
        {
            var limit = p * 2;
            if (lastSuccess?.FinishedAt is { } last && now - last > limit)
            {
                staleReason = $"the last successful backup is {Age(now - last)} old, more than twice the {Console.Domain.Configuration.DurationText.Format(p)} schedule";
            }
            else if (lastSuccess is null && scheduleSince is { } since && now - since > limit)
            {
                staleReason = $"no successful backup in {Age(now - since)}, more than twice the {Console.Domain.Configuration.DurationText.Format(p)} schedule";
            }
        }

        var continuous = ContinuousHealth.Evaluate(policy.Continuous, window, now, scheduleSince);
        if (continuous?.AlertReason is { } behind)
        {
            staleReason = staleReason is null ? behind : $"{staleReason}; {behind}";
        }

        return new BackupHealth(
            cluster,
            ConfigurationName(policy),
            configurationError,
            status,
            status == LastBackupState.Error ? lastAttempt?.Error : null,
            lastSuccess?.FinishedAt,
            lastAttempt?.StartedAt,
            consecutiveFailures,
            policy.Paused || !policy.Enabled ? null : nextRunAt,
            policy.Paused,
            staleReason is not null,
            staleReason)
        {
            Continuous = continuous,
        };
    }

    public static string ConfigurationName(Clusters.BackupPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Enabled ? string.Join('+', policy.Targets.Order(StringComparer.Ordinal)) : "disabled";
    }

    private static string Age(TimeSpan age) => age.TotalDays >= 2 ? $"{age.TotalDays:0} days"
        : age.TotalHours >= 2 ? $"{age.TotalHours:0} hours"
        : $"{Math.Max(1, age.TotalMinutes):0} minutes";
}
