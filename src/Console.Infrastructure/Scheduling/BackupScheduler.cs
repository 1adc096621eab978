using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Access;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Persistence;
using Hangfire;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Scheduling;

/// <summary>The edit a person makes on the Settings page for one cluster.</summary>
public sealed record ScheduleEdit(string? Interval, string? Cron, int? RetentionCount, string? RetentionMaxAge, bool Paused);

/// <summary>
/// Decides when each cluster's backups are due and is the one place that changes the console-side overrides: pause,
/// resume and schedule edits are validated, persisted, applied to the catalog, and take effect at once. Hangfire runs
/// one recurring job, <see cref="ScheduleTickJob"/>, that calls <see cref="TickAsync"/>; the Domain's schedule rules,
/// given the time, say what is due, and each due backup becomes one Hangfire job (docs/decisions/0014).
/// </summary>
public sealed partial class BackupScheduler(
    ClusterCatalog catalog,
    BackupOverrideStore overrides,
    BackupRecordStore records,
    BackupRunner runner,
    ScheduleStateStore states,
    IBackgroundJobClient jobs,
    IRecurringJobManager recurring,
    TimeProvider clock,
    AccessGuard guard,
    ILogger<BackupScheduler> logger)
{
    /// <summary>The recurring job that asks the schedule what is due.</summary>
    public const string TickJobId = "backup-schedule-tick";

    /// <summary>Every 15 seconds: a backup starts at most that late (plus the queue's poll), whatever its schedule.</summary>
    public const string TickCron = "*/15 * * * * *";

    private readonly DateTimeOffset _startedAt = clock.GetUtcNow();
    private System.Collections.Immutable.ImmutableDictionary<string, string> _errors = System.Collections.Immutable.ImmutableDictionary<string, string>.Empty;

    /// <summary>Why a cluster's schedule could not be applied, for the status table's configuration error.</summary>
    public string? ErrorFor(string cluster) => _errors.GetValueOrDefault(cluster);

    /// <summary>Raised after every change to schedules, so pages can show new next-run times.</summary>
    public event Action? Changed;

    /// <summary>Makes sure the tick is scheduled, then applies the current schedules at once (first backups, edits).</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        recurring.AddOrUpdate<ScheduleTickJob>(
            TickJobId,
            job => job.RunAsync(CancellationToken.None),
            TickCron,
            new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc, MisfireHandling = MisfireHandlingMode.Relaxed });
        await TickAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts every backup that is due now: at most one per cluster, each as its own Hangfire job.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        // The facts that need I/O first: the decisions below are made synchronously, under the schedule lock.
        var clusters = catalog.All;
        var succeeded = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var cluster in clusters)
        {
            succeeded[cluster.Name.Value] = await records.LastSuccessAsync(cluster.Name.Value, cancellationToken).ConfigureAwait(false) is not null;
        }

        var errors = System.Collections.Immutable.ImmutableDictionary.CreateBuilder<string, string>();
        var written = await states.ChangeAsync(
            access =>
            {
                var now = clock.GetUtcNow();
                var any = false;
                foreach (var cluster in clusters)
                {
                    var name = cluster.Name.Value;
                    try
                    {
                        var state = access.Read(name);
                        var facts = new ScheduleFacts(succeeded[name], runner.RunningFor(name) is not null, _startedAt);
                        var decision = BackupSchedule.Evaluate(cluster.Backup, state, facts, now);
                        if (decision.Due is { } due)
                        {
                            // Enqueued before the state is written: a failure in between repeats the occurrence, and its claim drops the copy.
                            jobs.Enqueue<ScheduledBackupJob>(job => job.RunAsync(name, due.Occurrence, due.First, CancellationToken.None));
                            LogDue(logger, name, due.Occurrence, due.First);
                        }

                        if (decision.State != state)
                        {
                            access.Write(name, decision.State);
                            any = true;
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // One cluster's trouble must not stop the others.
                        errors[name] = $"the schedule could not be applied: {ex.Message}";
                        LogSyncFailed(logger, name, ex);
                    }
                }

                return any;
            },
            cancellationToken).ConfigureAwait(false);
        var changed = written || !errors.ToImmutable().SequenceEqual(_errors);
        _errors = errors.ToImmutable();
        if (changed)
        {
            Changed?.Invoke();
        }
    }

    /// <summary>When the cluster's next scheduled backup is due; null when it has no schedule or is paused.</summary>
    public Task<DateTimeOffset?> NextRunAsync(string cluster, CancellationToken cancellationToken)
    {
        if (catalog.Find(cluster) is not { } spec)
        {
            return Task.FromResult<DateTimeOffset?>(null);
        }

        return Task.Run(() => BackupSchedule.NextRun(spec.Backup, states.Read(cluster), clock.GetUtcNow()), cancellationToken);
    }

    /// <summary>Pauses scheduled backups of the cluster (Operator), kept across restarts.</summary>
    public Task PauseAsync(string cluster, Actor by, CancellationToken cancellationToken) =>
        guard.AuditedAsync(by, Role.Operator, AuditActions.Pause, cluster, null, () => UpdateAsync(cluster, o => o with { Paused = true }, by.Label, cancellationToken), null, cancellationToken);

    public Task ResumeAsync(string cluster, Actor by, CancellationToken cancellationToken) =>
        guard.AuditedAsync(by, Role.Operator, AuditActions.Resume, cluster, null, () => UpdateAsync(cluster, o => o with { Paused = false }, by.Label, cancellationToken), null, cancellationToken);

    /// <summary>
    /// Validates an edit (Admin) with the same rules as start-up; on any problem returns them all and changes nothing.
    /// </summary>
    public Task<IReadOnlyList<ScheduleProblem>> SaveAsync(string cluster, ScheduleEdit edit, Actor by, CancellationToken cancellationToken)
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
                : (AuditOutcome.Failed, string.Join("; ", errors.Select(e => e.At("Schedule")))),
            cancellationToken);
    }

    private async Task<IReadOnlyList<ScheduleProblem>> SaveCoreAsync(string cluster, ScheduleEdit edit, string by, CancellationToken cancellationToken)
    {
        if (catalog.Find(cluster) is not { } spec)
        {
            return [new(ScheduleField.Schedule, $"there is no cluster named '{cluster}'")];
        }

        var errors = BackupScheduleRules.Check(spec.Backup.Enabled, edit.Interval, edit.Cron, edit.RetentionCount, edit.RetentionMaxAge);
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
        await TickAsync(cancellationToken).ConfigureAwait(false);
        LogChanged(logger, cluster, by);
        Changed?.Invoke();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Backup of {Cluster} due (occurrence {Occurrence:O}, first backup: {First}): queued")]
    private static partial void LogDue(ILogger logger, string cluster, DateTimeOffset occurrence, bool first);

    [LoggerMessage(Level = LogLevel.Error, Message = "The backup schedule of {Cluster} could not be applied")]
    private static partial void LogSyncFailed(ILogger logger, string cluster, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backup settings of {Cluster} changed by {By}")]
    private static partial void LogChanged(ILogger logger, string cluster, string by);
}
