using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Access;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Persistence;
using Microsoft.Extensions.Logging;
using Quartz;

namespace Console.Infrastructure.Scheduling;

/// <summary>The edit a person makes on the Settings page for one cluster.</summary>
public sealed record ScheduleEdit(string? Interval, string? Cron, int? RetentionCount, string? RetentionMaxAge, bool Paused);

/// <summary>
/// Keeps Quartz's triggers in step with the clusters' effective backup policies (configuration plus console-side
/// overrides), and is the one place that changes those overrides: pause, resume and schedule edits are validated,
/// persisted, applied to the catalog, and reach the scheduler without a restart.
/// </summary>
public sealed partial class BackupScheduler(
    ISchedulerFactory schedulers,
    ClusterCatalog catalog,
    BackupOverrideStore overrides,
    TimeProvider clock,
    AccessGuard guard,
    ILogger<BackupScheduler> logger) : IDisposable
{
    private readonly SemaphoreSlim _sync = new(1, 1);
    private System.Collections.Immutable.ImmutableDictionary<string, string> _errors = System.Collections.Immutable.ImmutableDictionary<string, string>.Empty;

    /// <summary>Why a cluster's schedule could not be applied, for the status table's configuration error.</summary>
    public string? ErrorFor(string cluster) => _errors.GetValueOrDefault(cluster);

    /// <summary>Raised after every change to schedules, so pages can show new next-run times.</summary>
    public event Action? Changed;

    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await _sync.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var scheduler = await schedulers.GetScheduler(cancellationToken).ConfigureAwait(false);
            var wanted = catalog.All.Where(c => c.Backup.Enabled && BackupTriggers.Describe(c.Backup) is not null).ToDictionary(c => c.Name.Value, StringComparer.Ordinal);
            foreach (var key in await scheduler.GetTriggerKeys(GroupMatcher<TriggerKey>.GroupEquals(BackupTriggers.Group), cancellationToken).ConfigureAwait(false))
            {
                var cluster = key.Name["backup-".Length..];
                if (!wanted.ContainsKey(cluster))
                {
                    await scheduler.DeleteJob(BackupTriggers.JobKeyFor(cluster), cancellationToken).ConfigureAwait(false);
                    LogUnscheduled(logger, cluster);
                }
            }

            // One cluster's bad schedule must not stop the others from being applied.
            var errors = System.Collections.Immutable.ImmutableDictionary.CreateBuilder<string, string>();
            foreach (var spec in wanted.Values)
            {
                try
                {
                    await SyncClusterAsync(scheduler, spec, cancellationToken).ConfigureAwait(false);
                }
                catch (SchedulerException ex)
                {
                    errors[spec.Name.Value] = $"the schedule could not be applied: {ex.Message}";
                    LogSyncFailed(logger, spec.Name.Value, ex);
                }
            }

            _errors = errors.ToImmutable();
        }
        finally
        {
            _sync.Release();
        }

        Changed?.Invoke();
    }

    private async Task SyncClusterAsync(IScheduler scheduler, ClusterSpec spec, CancellationToken cancellationToken)
    {
        var name = spec.Name.Value;
        var key = BackupTriggers.TriggerKeyFor(name);
        var existing = await scheduler.GetTrigger(key, cancellationToken).ConfigureAwait(false);
        var desired = BackupTriggers.Describe(spec.Backup);
        if (existing is null)
        {
            var job = JobBuilder.Create<ScheduledBackupJob>().WithIdentity(BackupTriggers.JobKeyFor(name)).StoreDurably().Build();
            await scheduler.ScheduleJob(job, BackupTriggers.Create(spec, clock.GetUtcNow(), clock), default, cancellationToken).ConfigureAwait(false);
            LogScheduled(logger, name, desired!);
        }
        else if (existing.JobDataMap.GetString(BackupTriggers.ScheduleKey) != desired)
        {
            // A changed schedule starts afresh from now; an unchanged one keeps its stored next-fire time.
            await scheduler.RescheduleJob(key, BackupTriggers.Create(spec, clock.GetUtcNow(), clock), cancellationToken).ConfigureAwait(false);
            LogScheduled(logger, name, desired!);
        }

        var state = await scheduler.GetTriggerState(key, cancellationToken).ConfigureAwait(false);
        if (spec.Backup.Paused && state != TriggerState.Paused)
        {
            await scheduler.PauseTrigger(key, cancellationToken).ConfigureAwait(false);
        }
        else if (!spec.Backup.Paused && state == TriggerState.Paused)
        {
            await scheduler.ResumeTrigger(key, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>When the cluster's next scheduled backup fires; null when it has no schedule or is paused.</summary>
    public async Task<DateTimeOffset?> NextRunAsync(string cluster, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken).ConfigureAwait(false);
        var key = BackupTriggers.TriggerKeyFor(cluster);
        var trigger = await scheduler.GetTrigger(key, cancellationToken).ConfigureAwait(false);
        if (trigger is null || await scheduler.GetTriggerState(key, cancellationToken).ConfigureAwait(false) == TriggerState.Paused)
        {
            return null;
        }

        return trigger.NextFireTimeUtc;
    }

    /// <summary>Pauses scheduled backups of the cluster (Operator), kept across restarts.</summary>
    public Task PauseAsync(string cluster, Actor by, CancellationToken cancellationToken) =>
        guard.AuditedAsync(by, Role.Operator, AuditActions.Pause, cluster, null, () => UpdateAsync(cluster, o => o with { Paused = true }, by.Label, cancellationToken), null, cancellationToken);

    public Task ResumeAsync(string cluster, Actor by, CancellationToken cancellationToken) =>
        guard.AuditedAsync(by, Role.Operator, AuditActions.Resume, cluster, null, () => UpdateAsync(cluster, o => o with { Paused = false }, by.Label, cancellationToken), null, cancellationToken);

    /// <summary>
    /// Validates an edit (Admin) with the same rules as start-up; on any problem returns them all and changes nothing.
    /// </summary>
    public Task<IReadOnlyList<string>> SaveAsync(string cluster, ScheduleEdit edit, Actor by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(edit);
        return guard.AuditedAsync(
            by,
            Role.Admin,
            AuditActions.SettingsChange,
            cluster,
            null,
            () => SaveCoreAsync(cluster, edit, by.Label, cancellationToken),
            errors => errors.Count == 0
                ? (AuditOutcome.Succeeded, $"interval {edit.Interval ?? "-"}, cron {edit.Cron ?? "-"}, keep {edit.RetentionCount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}, max age {edit.RetentionMaxAge ?? "-"}, paused {edit.Paused}")
                : (AuditOutcome.Failed, string.Join("; ", errors)),
            cancellationToken);
    }

    private async Task<IReadOnlyList<string>> SaveCoreAsync(string cluster, ScheduleEdit edit, string by, CancellationToken cancellationToken)
    {
        if (catalog.Find(cluster) is not { } spec)
        {
            return [$"there is no cluster named '{cluster}'"];
        }

        var errors = BackupScheduleRules.Validate("Schedule", spec.Backup.Enabled, edit.Interval, edit.Cron, edit.RetentionCount, edit.RetentionMaxAge, QuartzCron.Error);
        if (errors.Count > 0)
        {
            return errors;
        }

        await UpdateAsync(
            cluster,
            _ => new BackupOverride(
                edit.Paused,
                string.IsNullOrWhiteSpace(edit.Interval) ? null : edit.Interval.Trim(),
                string.IsNullOrWhiteSpace(edit.Cron) ? null : edit.Cron.Trim(),
                edit.RetentionCount,
                string.IsNullOrWhiteSpace(edit.RetentionMaxAge) ? null : edit.RetentionMaxAge.Trim(),
                ClearRetentionMaxAge: string.IsNullOrWhiteSpace(edit.RetentionMaxAge)),
            by,
            cancellationToken).ConfigureAwait(false);
        return [];
    }

    private async Task UpdateAsync(string cluster, Func<BackupOverride, BackupOverride> change, string by, CancellationToken cancellationToken)
    {
        if (catalog.Find(cluster) is null)
        {
            throw new InvalidOperationException($"there is no cluster named '{cluster}'");
        }

        var updated = change(catalog.OverrideFor(cluster) ?? new BackupOverride());
        await overrides.SaveAsync(cluster, updated, by, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        catalog.SetOverride(cluster, updated);
        await SyncAsync(cancellationToken).ConfigureAwait(false);
        LogChanged(logger, cluster, by);
    }

    public void Dispose() => _sync.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Backups of {Cluster} scheduled: {Schedule}")]
    private static partial void LogScheduled(ILogger logger, string cluster, string schedule);

    [LoggerMessage(Level = LogLevel.Error, Message = "The backup schedule of {Cluster} could not be applied")]
    private static partial void LogSyncFailed(ILogger logger, string cluster, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backups of {Cluster} no longer scheduled")]
    private static partial void LogUnscheduled(ILogger logger, string cluster);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backup settings of {Cluster} changed by {By}")]
    private static partial void LogChanged(ILogger logger, string cluster, string by);
}
