using System.Collections.Concurrent;
using System.Reflection;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Replicas;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Backups;

/// <summary>
/// Takes backups: one run per cluster at a time, whoever asks (button, API, schedule, restore). A run records the
/// attempt, picks a healthy member (a follower where possible), hands the snapshot to <see cref="SnapshotPipeline"/>
/// (stream, verify, tee to the stores, finalize with a manifest), records the copies, and runs the
/// <see cref="RetentionPass"/>. Failures leave no file at a final name
/// and are recorded with the error an operator needs; a prune failure is noted on the record but never fails the run.
/// How a run is going is published on <see cref="BackupProgressFeed"/>, throttled while it streams and at each phase.
/// </summary>
public sealed partial class BackupRunner(
    ClusterCatalog catalog,
    EtcdClusterClientFactory clients,
    SnapshotStores stores,
    BackupRecordStore records,
    SnapshotLedger ledger,
    IOptions<ConsoleSettings> settings,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    AccessGuard guard,
    StorageHealthMonitor storageHealth,
    BackupProgressFeed feed,
    ReplicaIdentity replica,
    ClusterBackupLocks locks,
    BackupSuspensions suspensions,
    ILogger<BackupRunner> logger)
{
    // How long a replica that lost the cluster's lock waits to see the winner's Running record (it is written right after the lock).
    private static readonly TimeSpan ElsewhereLookup = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StorageCheckTimeout = TimeSpan.FromSeconds(30);
    private static readonly string ConsoleVersion = typeof(BackupRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "dev";
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(150);
    private readonly ConcurrentDictionary<string, BackupRun> _running = new(StringComparer.Ordinal);
    private readonly SnapshotPipeline _pipeline = new(stores, clock);
    private readonly RetentionPass _retention = new(stores, ledger, clock, logger);

    /// <summary>
    /// Why every backup of the cluster but pre-restore ones is refused (a restore is under way, on any replica), or null.
    /// </summary>
    public Task<string?> SuspendedBecauseAsync(string cluster, CancellationToken cancellationToken) => suspensions.ReasonAsync(cluster, cancellationToken);

    public IReadOnlyCollection<BackupRun> Running => [.. _running.Values];

    public BackupRun? RunningFor(string cluster) => _running.GetValueOrDefault(cluster);

    /// <summary>
    /// Starts a backup in the background and returns once it is recorded as Running. People and tokens need the
    /// Operator role, and their requests are audited; the console's own (scheduled) runs are not.
    /// </summary>
    public Task<BackupStart> StartAsync(string cluster, BackupTrigger trigger, Actor requestedBy, CancellationToken cancellationToken, DateTimeOffset? occurrence = null)
    {
        ArgumentNullException.ThrowIfNull(requestedBy);
        if (requestedBy.Kind == ActorKind.System)
        {
            return StartCoreAsync(cluster, trigger, requestedBy.Label, occurrence, cancellationToken);
        }

        return guard.AuditedAsync(
            requestedBy,
            Role.Operator,
            AuditActions.BackupNow,
            cluster,
            null,
            () => StartCoreAsync(cluster, trigger, requestedBy.Label, occurrence, cancellationToken),
            start => start switch
            {
                BackupStart.Started s => (AuditOutcome.Succeeded, $"{trigger}: record {s.Run.RecordId}"),
                BackupStart.AlreadyRunning r => (AuditOutcome.Failed, $"already running (record {r.Run.RecordId})"),
                BackupStart.RunningElsewhere e => (AuditOutcome.Failed, $"already running on replica {e.Replica ?? "(unknown)"} (record {e.RecordId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "not yet visible"})"),
                BackupStart.Suspended s => (AuditOutcome.Failed, $"suspended: {s.Reason}"),
                _ => (AuditOutcome.Failed, "no such cluster"),
            },
            cancellationToken);
    }

    private async Task<BackupStart> StartCoreAsync(string cluster, BackupTrigger trigger, string requestedBy, DateTimeOffset? occurrence, CancellationToken cancellationToken)
    {
        if (catalog.Find(cluster) is not { } spec)
        {
            return new BackupStart.UnknownCluster(cluster);
        }

        if (trigger != BackupTrigger.PreRestore && await SuspendedBecauseAsync(cluster, cancellationToken).ConfigureAwait(false) is { } reason)
        {
            return new BackupStart.Suspended(cluster, reason);
        }

        var run = new BackupRun(cluster, trigger, requestedBy, clock.GetUtcNow(), replica.Name, occurrence);
        while (!_running.TryAdd(cluster, run))
        {
            // Another run holds the cluster; hand it out once its record exists. If it finished meanwhile, try again.
            if (_running.TryGetValue(cluster, out var existing) && await existing.Registered.WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                return new BackupStart.AlreadyRunning(existing);
            }
        }

        // Across replicas: the cluster's lock, held until the run's outcome is recorded.
        IAsyncDisposable? held = null;
        try
        {
            held = await locks.TryTakeAsync(cluster, cancellationToken).ConfigureAwait(false);
            if (held is null)
            {
                _running.TryRemove(cluster, out _);
                run.MarkNotRegistered();
                var (id, on) = await RunningElsewhereAsync(cluster, cancellationToken).ConfigureAwait(false);
                LogRunningElsewhere(logger, cluster, on ?? "(unknown)", id);
                return new BackupStart.RunningElsewhere(id, on);
            }

            run.MarkRegistered(await records.InsertRunningAsync(
                new BackupRecord
                {
                    Cluster = cluster,
                    Trigger = trigger,
                    RequestedBy = requestedBy,
                    StartedAt = run.StartedAt,
                    Targets = string.Join('+', spec.Backup.Targets),
                    Replica = run.Replica,
                    Occurrence = run.Occurrence,
                },
                cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            if (held is not null)
            {
                await held.DisposeAsync().ConfigureAwait(false);
            }

            _running.TryRemove(cluster, out _);
            run.MarkNotRegistered();
            throw;
        }

        LogStarted(logger, cluster, run.RecordId, trigger, requestedBy);
        Publish(run, BackupPhase.Starting);
        _ = Task.Run(() => ExecuteAsync(spec, run, held), CancellationToken.None);
        return new BackupStart.Started(run);
    }

    /// <summary>
    /// The winner's Running record, polled briefly: the lock is taken just before the record is written. A record of
    /// ours is not it (the in-process dictionary stops our own second run before the lock).
    /// </summary>
    private async Task<(long? Id, string? Replica)> RunningElsewhereAsync(string cluster, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + ElsewhereLookup;
        while (true)
        {
            if (await records.RunningOfAsync(cluster, cancellationToken).ConfigureAwait(false) is { } running)
            {
                return (running.Id, running.Replica);
            }

            if (clock.GetUtcNow() >= deadline)
            {
                return (null, null);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), clock, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Starts a backup and waits for its final record (pre-restore runs).</summary>
    public async Task<BackupRecord> RunAsync(string cluster, BackupTrigger trigger, Actor requestedBy, CancellationToken cancellationToken)
    {
        var start = await StartAsync(cluster, trigger, requestedBy, cancellationToken).ConfigureAwait(false);
        return start switch
        {
            BackupStart.Started s => await s.Run.Completion.WaitAsync(cancellationToken).ConfigureAwait(false),
            BackupStart.AlreadyRunning r => await r.Run.Completion.WaitAsync(cancellationToken).ConfigureAwait(false),
            BackupStart.RunningElsewhere e => throw new BackupException($"a backup of '{cluster}' is already running on replica {e.Replica ?? "(unknown)"}"),
            BackupStart.Suspended s => throw new BackupException($"backups of '{cluster}' are suspended: {s.Reason}"),
            _ => throw new InvalidOperationException($"there is no cluster named '{cluster}'"),
        };
    }

    private async Task ExecuteAsync(ClusterSpec spec, BackupRun run, IAsyncDisposable held)
    {
        var stopping = lifetime.ApplicationStopping;
        var record = new BackupRecord
        {
            Id = run.RecordId,
            Cluster = run.Cluster,
            Trigger = run.Trigger,
            RequestedBy = run.RequestedBy,
            StartedAt = run.StartedAt,
            Targets = string.Join('+', spec.Backup.Targets),
            Status = BackupStatus.Running,
            Replica = run.Replica,
            Occurrence = run.Occurrence,
        };
        try
        {
            record = await SnapshotAsync(spec, run, record, stopping).ConfigureAwait(false);
            record = await PruneAsync(spec, run, record).ConfigureAwait(false);
        }
        catch (Exception ex) when (stopping.IsCancellationRequested && ex is OperationCanceledException)
        {
            record = record with { Status = BackupStatus.Interrupted, FinishedAt = clock.GetUtcNow(), Error = "the console was stopped while this backup was running; no snapshot was kept" };
        }
        catch (Exception ex)
        {
            record = record with { Status = BackupStatus.Failed, FinishedAt = clock.GetUtcNow(), Error = Describe(ex) };
            LogFailed(logger, run.Cluster, run.RecordId, record.Error);
        }

        await CheckStorageAsync(spec, run, record).ConfigureAwait(false);

        // A record left Running would read as "in flight" until the next restart: try a few times.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await records.UpdateAsync(record, CancellationToken.None).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && attempt < 3)
            {
                LogRecordFailed(logger, run.Cluster, run.RecordId, ex);
                await Task.Delay(TimeSpan.FromSeconds(attempt), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRecordFailed(logger, run.Cluster, run.RecordId, ex);
                break;
            }
        }

        // Only once the outcome is recorded may another replica start the next run of this cluster.
        try
        {
            await held.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogUnlockFailed(logger, run.Cluster, ex);
        }

        // Published before the run completes, so whoever awaits the outcome has seen the last update too.
        _running.TryRemove(new KeyValuePair<string, BackupRun>(run.Cluster, run));
        feed.Publish(run.Advance(p => p with { Phase = BackupPhase.Finished, At = clock.GetUtcNow(), Final = record }));
        run.Complete(record);
    }

    /// <summary>
    /// Re-checks the run's targets before its outcome is announced, so the status table shows a disk the run filled up
    /// (or a snapshot that no longer fits) with the failed record, not a minute later. Never fails the run.
    /// </summary>
    private async Task CheckStorageAsync(ClusterSpec spec, BackupRun run, BackupRecord record)
    {
        using var timeout = new CancellationTokenSource(StorageCheckTimeout);
        try
        {
            await storageHealth.CheckAfterBackupAsync(run.Cluster, spec.Backup.Targets, record.SizeBytes ?? run.Progress.TotalBytes, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogStorageCheckFailed(logger, run.Cluster, ex);
        }
    }

    private async Task<BackupRecord> SnapshotAsync(ClusterSpec spec, BackupRun run, BackupRecord record, CancellationToken cancellationToken)
    {
        var client = clients.For(spec);
        // The canary is for restore drills: a cluster whose copies are never drilled gets no key written into it.
        var canary = spec.Backup.Drill.Enabled ? await WriteCanaryAsync(client, spec, run.RecordId, cancellationToken).ConfigureAwait(false) : (null, "restore drills are off for this cluster (Backup:Drill:Enabled)");
        Publish(run, BackupPhase.ChoosingMember);
        var (choice, status) = await ChooseMemberAsync(client, spec, cancellationToken).ConfigureAwait(false);
        record = record with { MemberNote = choice.Note };
        if (!choice.Found)
        {
            throw new BackupException(choice.Note);
        }

        var member = choice.Member!;
        feed.Publish(run.Advance(p => p with { Member = member.Name, Phase = BackupPhase.Streaming, At = clock.GetUtcNow() }));
        var name = SnapshotName.For(spec.Name, clock.GetUtcNow(), spec.Backup.Sealing.Codec);
        var etcd = settings.Value.Etcd;
        var job = new SnapshotJob(client, choice.Endpoint!, name, spec.Backup.Targets, new SnapshotOptions(etcd.SnapshotIdleTimeout, etcd.SnapshotDeadline), (result, finishedAt) => new SnapshotManifest
        {
            Cluster = spec.Name.Value,
            FileName = name.FileName,
            Member = member.Name,
            MemberId = member.IdHex,
            // The member's revision read just before the snapshot, a lower bound of the snapshot's own: continuous
            // backup starts watching there, so it must never be past it (etcd 3.5+ fill the stream's header when each
            // message is sent, after the snapshot was taken). The stream's header only stands in without a status.
            Revision = status?.Revision ?? result.Revision,
            RaftIndex = (long?)status?.RaftIndex,
            DbSize = status?.DbSize,
            SizeBytes = result.Size,
            Sha256 = result.Sha256,
            EtcdVersion = status?.Version,
            Trigger = run.Trigger.ToString(),
            RequestedBy = run.RequestedBy,
            StartedAt = run.StartedAt,
            FinishedAt = finishedAt,
            ConsoleVersion = ConsoleVersion,
            RecordId = run.RecordId,
            CanaryKey = canary.Key,
            CanarySkipped = canary.Skipped,
        }, spec.Backup.Sealing);
        var outcome = await _pipeline.RunAsync(
            job,
            new ThrottledProgress(feed, run, clock),
            () => Publish(run, BackupPhase.Finalizing),
            cancellationToken).ConfigureAwait(false);
        var (result, stored, errors, finishedAt) = (outcome.Snapshot, outcome.Stored, outcome.Errors, outcome.FinishedAt);

        await RecordCopiesAsync(run.RecordId, spec, stored, errors).ConfigureAwait(false);
        var partial = stored.Count < spec.Backup.Targets.Count;
        var retried = partial && stored.ContainsKey("local") ? " The local copy is kept and the upload is retried from it." : string.Empty;
        LogSucceeded(logger, spec.Name.Value, run.RecordId, name.FileName, result.Size, member.Name);
        return record with
        {
            Status = partial ? BackupStatus.PartiallySucceeded : BackupStatus.Succeeded,
            Error = partial ? $"{string.Join("; ", errors.Values)}.{retried}" : null,
            FinishedAt = finishedAt,
            Member = member.Name,
            FileName = name.FileName,
            Location = string.Join('\n', stored.Select(s => s.Value)),
            SizeBytes = result.Size,
            Sha256 = result.Sha256,
            Revision = status?.Revision ?? result.Revision,
            RaftIndex = (long?)status?.RaftIndex,
            EtcdVersion = status?.Version,
        };
    }

    /// <summary>
    /// Puts the canary (<see cref="Canary.KeyOf"/>, holding the record id) just before the status read and the snapshot,
    /// so a restore drill can find it in the copy. Never fails the backup: a refusal (auth, permissions) or any other
    /// error is returned as the reason the canary was skipped, and the drill reports it.
    /// </summary>
    private async Task<(string? Key, string? Skipped)> WriteCanaryAsync(EtcdClusterClient client, ClusterSpec spec, long recordId, CancellationToken cancellationToken)
    {
        var key = Canary.KeyOf(spec.Name.Value);
        try
        {
            await client.OnAnyEndpointAsync((endpoint, ct) => client.PutAsync(endpoint, key, Canary.ValueOf(recordId), ct), cancellationToken).ConfigureAwait(false);
            return (key, null);
        }
        catch (EtcdException ex)
        {
            var reason = ex.Kind is EtcdErrorKind.PermissionDenied or EtcdErrorKind.AuthFailed
                ? $"etcd refused writing {key}: {ex.Message}"
                : $"{key} could not be written: {ex.Message}";
            LogCanarySkipped(logger, spec.Name.Value, recordId, reason);
            return (null, reason);
        }
    }

    private async Task RecordCopiesAsync(long recordId, ClusterSpec spec, IReadOnlyDictionary<string, string> stored, IReadOnlyDictionary<string, string> errors)
    {
        var now = clock.GetUtcNow();
        foreach (var target in spec.Backup.Targets)
        {
            var copy = stored.TryGetValue(target, out var location)
                ? new BackupCopy(recordId, target, CopyStatus.Stored, location, null, 1)
                : new BackupCopy(recordId, target, target != "local" && stored.ContainsKey("local") ? CopyStatus.Pending : CopyStatus.Failed, null, errors.GetValueOrDefault(target), 1);
            await ledger.SaveCopyAsync(copy, now, CancellationToken.None).ConfigureAwait(false);
        }
    }

    internal static async Task<(MemberChoice Choice, EtcdMemberStatus? Status)> ChooseMemberAsync(EtcdClusterClient client, ClusterSpec spec, CancellationToken cancellationToken)
    {
        var (reachable, members) = await client.OnAnyEndpointAsync(client.ListMembersAsync, cancellationToken).ConfigureAwait(false);
        var statuses = new ConcurrentDictionary<ulong, EtcdMemberStatus>();
        var errors = new ConcurrentDictionary<ulong, string>();
        await Task.WhenAll(members.Where(m => m.HasStarted).Select(async member =>
        {
            try
            {
                statuses[member.Id] = await client.StatusAsync(MemberEndpoints.For(member, spec, reachable), cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdException ex)
            {
                errors[member.Id] = ex.Message;
            }
        })).ConfigureAwait(false);

        IReadOnlyList<EtcdAlarm> alarms;
        try
        {
            alarms = await client.ListAlarmsAsync(reachable, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException)
        {
            alarms = [];
        }

        var choice = MemberSelector.Choose(members, statuses, errors, alarms, m => m.HasStarted ? MemberEndpoints.For(m, spec, reachable) : null);
        return (choice, choice.Member is null ? null : statuses.GetValueOrDefault(choice.Member.Id));
    }

    private async Task<BackupRecord> PruneAsync(ClusterSpec spec, BackupRun run, BackupRecord record)
    {
        Publish(run, BackupPhase.Pruning);
        return record with { RetentionNote = await _retention.RunAsync(spec, record.FileName).ConfigureAwait(false) };
    }

    private void Publish(BackupRun run, BackupPhase phase) => feed.Publish(run.Advance(p => p with { Phase = phase, At = clock.GetUtcNow() }));

    private static string Describe(Exception exception) => exception switch
    {
        EtcdException or SnapshotIntegrityException or BackupException => exception.Message,
        IOException io => $"writing the snapshot failed: {io.Message}",
        UnauthorizedAccessException denied => $"writing the snapshot failed: {denied.Message}",
        _ => $"unexpected error: {exception.Message}",
    };

    private sealed class ThrottledProgress(BackupProgressFeed feed, BackupRun run, TimeProvider clock) : IProgress<SnapshotProgress>
    {
        private DateTimeOffset _last = DateTimeOffset.MinValue;

        public void Report(SnapshotProgress value)
        {
            var now = clock.GetUtcNow();
            var progress = run.Advance(p => p with { BytesReceived = value.BytesReceived, TotalBytes = value.TotalBytes, At = now });
            if (now - _last >= ProgressInterval || value.BytesReceived == value.TotalBytes)
            {
                _last = now;
                feed.Publish(progress);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Backup {RecordId} of {Cluster} started ({Trigger}, by {RequestedBy})")]
    private static partial void LogStarted(ILogger logger, string cluster, long recordId, BackupTrigger trigger, string requestedBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backup {RecordId} of {Cluster} succeeded: {FileName}, {Size} bytes from {Member}")]
    private static partial void LogSucceeded(ILogger logger, string cluster, long recordId, string fileName, long size, string member);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backup {RecordId} of {Cluster} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string cluster, long recordId, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not record the outcome of backup {RecordId} of {Cluster}")]
    private static partial void LogRecordFailed(ILogger logger, string cluster, long recordId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backup of {Cluster} not started: already running on replica {Replica} (record {RecordId})")]
    private static partial void LogRunningElsewhere(ILogger logger, string cluster, string replica, long? recordId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing the backup lock of {Cluster} failed; the database releases it with the connection")]
    private static partial void LogUnlockFailed(ILogger logger, string cluster, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backup {RecordId} of {Cluster}: canary skipped ({Reason})")]
    private static partial void LogCanarySkipped(ILogger logger, string cluster, long recordId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-checking storage after a backup of {Cluster} failed")]
    private static partial void LogStorageCheckFailed(ILogger logger, string cluster, Exception exception);

}

public sealed class BackupException : Exception
{
    public BackupException(string message)
        : base(message)
    {
    }

    public BackupException()
    {
    }

    public BackupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
