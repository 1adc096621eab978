using Console.Domain.Backups;
using Console.Domain.Configuration;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Replicas;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Scheduling;

/// <summary>
/// One scheduled backup: claims its occurrence (so a duplicate delivery or a retry does nothing), then runs through
/// the same runner as "Back up now", which records every attempt. Hangfire never retries it: a failed backup is one
/// failed record, and the next occurrence tries again.
/// </summary>
[AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
public sealed partial class ScheduledBackupJob(
    BackupRunner runner,
    ScheduleStateStore states,
    ReplicaIdentity self,
    ReplicaStore replicas,
    ConsoleDatabase database,
    IOptions<ConsoleSettings> settings,
    TimeProvider clock,
    ILogger<ScheduledBackupJob> logger)
{
    public const string RequestedBy = "scheduler";
    public const string FirstBackupRequestedBy = "scheduler (first backup)";

    private static readonly TimeSpan Renewal = ScheduleStateStore.Lease / 4;

    public async Task RunAsync(string cluster, DateTimeOffset occurrence, bool first, CancellationToken cancellationToken)
    {
        if (await runner.SuspendedBecauseAsync(cluster, cancellationToken).ConfigureAwait(false) is not null)
        {
            return; // a restore is in progress; the schedule carries on afterwards
        }

        var holder = new ClaimHolder(self.Name, self.StartedAt);
        var alive = await AliveReplicasAsync(cancellationToken).ConfigureAwait(false);
        var claim = await states.ClaimAsync(cluster, occurrence, clock.GetUtcNow(), holder, alive, cancellationToken).ConfigureAwait(false);
        if (claim == ScheduleClaim.TakenOver)
        {
            LogTakenOver(logger, cluster, occurrence);
        }
        else if (claim != ScheduleClaim.Claimed)
        {
            LogSkipped(logger, cluster, occurrence, claim);
            return;
        }

        using var renewing = new CancellationTokenSource();
        var renewals = RenewAsync(cluster, occurrence, renewing.Token);
        try
        {
            var by = Console.Domain.Access.Actor.System(first ? FirstBackupRequestedBy : RequestedBy);
            var start = await runner.StartAsync(cluster, BackupTrigger.Scheduled, by, cancellationToken, occurrence).ConfigureAwait(false);
            var record = start switch
            {
                BackupStart.Started s => await s.Run.Completion.WaitAsync(cancellationToken).ConfigureAwait(false),
                BackupStart.AlreadyRunning r => await r.Run.Completion.WaitAsync(cancellationToken).ConfigureAwait(false),
                BackupStart.Suspended => null, // a restore began meanwhile; the schedule carries on afterwards
                BackupStart.RunningElsewhere e => Skipped(cluster, occurrence, e),
                _ => throw new InvalidOperationException($"there is no cluster named '{cluster}'"),
            };
            if (record is not null && record.Status != BackupStatus.Succeeded)
            {
                // Visible as a failed job in the dashboard too; the record says why.
                throw new BackupException($"the scheduled backup of '{cluster}' ended {record.Status}: {record.Error}");
            }
        }
        finally
        {
            await renewing.CancelAsync().ConfigureAwait(false);
            await renewals.ConfigureAwait(false);
            await states.ReleaseAsync(cluster, occurrence, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The replicas that may still hold a claim, read before the schedule's lock is taken (the lock is held only across
    /// synchronous calls). Null for one console on SQLite: a claim is then only ever released or left to expire, as before.
    /// </summary>
    private async Task<IReadOnlyCollection<ClaimHolder>?> AliveReplicasAsync(CancellationToken cancellationToken)
    {
        if (!database.IsPostgres)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var all = await replicas.AllAsync(cancellationToken).ConfigureAwait(false);
        return [.. all.Where(r => r.IsAliveAt(now, settings.Value.Replica.DeadAfter)).Select(r => new ClaimHolder(r.Name, r.StartedAt))];
    }

    /// <summary>Another replica is backing the cluster up (someone asked there): that run stands for this occurrence.</summary>
    private BackupRecord? Skipped(string cluster, DateTimeOffset occurrence, BackupStart.RunningElsewhere elsewhere)
    {
        LogRunningElsewhere(logger, cluster, occurrence, elsewhere.Replica ?? "(unknown)", elsewhere.RecordId);
        return null;
    }

    private async Task RenewAsync(string cluster, DateTimeOffset occurrence, CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(Renewal, clock);
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await states.RenewAsync(cluster, occurrence, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The next renewal may get through; the lease lasts four renewals.
                    LogRenewalFailed(logger, cluster, ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The lease of the scheduled backup of {Cluster} could not be renewed")]
    private static partial void LogRenewalFailed(ILogger logger, string cluster, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled backup of {Cluster} (occurrence {Occurrence:O}) skipped: a backup is already running on replica {Replica} (record {RecordId})")]
    private static partial void LogRunningElsewhere(ILogger logger, string cluster, DateTimeOffset occurrence, string replica, long? recordId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduled backup of {Cluster} (occurrence {Occurrence:O}): the previous occurrence's claim was held by a replica that is no longer alive; taken over")]
    private static partial void LogTakenOver(ILogger logger, string cluster, DateTimeOffset occurrence);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled backup of {Cluster} (occurrence {Occurrence:O}) not started: {Claim}")]
    private static partial void LogSkipped(ILogger logger, string cluster, DateTimeOffset occurrence, ScheduleClaim claim);
}
