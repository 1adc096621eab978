using System.Collections.Concurrent;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Replicas;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Continuous;

/// <summary>
/// Continuous backup's writer (decision record 0029): one loop per cluster with Continuous enabled, on the one replica
/// that holds the cluster's watch lock. It starts from a full snapshot (taking one when there is none), watches the
/// whole keyspace on a healthy member, groups events by revision with the console's receive time, flushes a segment
/// every FlushInterval or at MaxSegmentBytes to every target, and only then advances the durable revision. Progress
/// requests advance the durable time of an idle cluster; a compaction past the watcher is recorded as a break, and a
/// fresh full snapshot starts a new chain at once.
/// </summary>
public sealed partial class ContinuousBackupService(
    ClusterCatalog catalog,
    EtcdClusterClientFactory clients,
    BackupRunner runner,
    DeltaLedger ledger,
    DeltaSegmentWriter writer,
    DeltaPruning pruning,
    ClusterBackupLocks locks,
    ReplicaIdentity replica,
    TimeProvider clock,
    ILogger<ContinuousBackupService> logger) : BackgroundService
{
    private readonly ClusterCatalog _catalog = catalog;
    private readonly EtcdClusterClientFactory _clients = clients;
    private readonly BackupRunner _runner = runner;
    private readonly DeltaLedger _ledger = ledger;
    private readonly DeltaSegmentWriter _writer = writer;
    private readonly DeltaPruning _pruning = pruning;
    private readonly ClusterBackupLocks _locks = locks;
    private readonly ReplicaIdentity _replica = replica;
    private readonly TimeProvider _clock = clock;
    private readonly ILogger<ContinuousBackupService> _logger = logger;

    public const string RequestedBy = "continuous backup";
    private static readonly TimeSpan CatalogPoll = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan LockRetry = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ShutdownFlush = TimeSpan.FromSeconds(5);

    // Retention deletes full snapshots on its own schedule; segments they no longer need follow within this.
    private static readonly TimeSpan PruneEvery = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, Task> _loops = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Clusters can appear after start (the sandbox registers itself): look again now and then.
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                foreach (var spec in _catalog.All.Where(c => c.Backup.Continuous.Enabled))
                {
                    _ = _loops.GetOrAdd(spec.Name.Value, name => Task.Run(() => RunClusterAsync(name, stoppingToken), CancellationToken.None));
                }

                await Task.Delay(CatalogPoll, _clock, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await Task.WhenAll(_loops.Values).ConfigureAwait(false);
    }

    private async Task RunClusterAsync(string cluster, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Turned off (or the cluster removed) since: look again later rather than spin.
                if (_catalog.Find(cluster)?.Backup.Continuous.Enabled != true)
                {
                    await Task.Delay(CatalogPoll, _clock, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                var held = await _locks.TryTakeWatchAsync(cluster, stoppingToken).ConfigureAwait(false);
                if (held is null)
                {
                    await Task.Delay(LockRetry, _clock, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                await using (held.ConfigureAwait(false))
                {
                    await new ClusterWatcher(this, cluster).RunAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogLoopFailed(_logger, cluster, ex);
                try
                {
                    await Task.Delay(LockRetry, _clock, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>The watch of one cluster: its buffer of revisions not yet durable and where the chain stands.</summary>
    private sealed class ClusterWatcher(ContinuousBackupService service, string cluster)
    {
        private readonly List<DeltaRevision> _buffer = [];
        private long _bufferBytes;
        private long _durable;
        private long _startAt;
        private long? _unresumedBreak;
        private DateTimeOffset _pruneAt;
        private string _watcher = service._replica.Name;

        private TimeProvider Clock => service._clock;

        private ILogger Logger => service._logger;

        private ClusterSpec Spec => service._catalog.Find(cluster) ?? throw new InvalidOperationException($"cluster '{cluster}' is no longer configured");

        public async Task RunAsync(CancellationToken stoppingToken)
        {
            await StartChainAsync(stoppingToken).ConfigureAwait(false);
            var backoff = TimeSpan.FromSeconds(1);
            while (!stoppingToken.IsCancellationRequested && Spec.Backup.Continuous.Enabled)
            {
                try
                {
                    await FollowAsync(stoppingToken).ConfigureAwait(false);
                    backoff = TimeSpan.FromSeconds(1);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    await FlushOnShutdownAsync().ConfigureAwait(false);
                    throw;
                }
                catch (Exception ex) when (ex is EtcdException or IOException or BackupException or InvalidOperationException or System.Data.Common.DbException)
                {
                    // The member went away, the leader changed, a target failed: resume from the last durable revision
                    // (the buffer is kept and written once a target takes it again), on whichever member is healthy then.
                    LogWatchFailed(Logger, cluster, ex.Message, backoff);
                    await RecordErrorAsync(ex.Message).ConfigureAwait(false);
                    await Task.Delay(backoff, Clock, stoppingToken).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
                }
            }
        }

        /// <summary>
        /// Where to start: the last durable revision of the _ledger (after a restart, even kill -9), else the newest full
        /// snapshot, else a full snapshot taken now. A new chain watches from the snapshot's own revision (overlap allowed).
        /// </summary>
        private async Task StartChainAsync(CancellationToken cancellationToken)
        {
            var state = await service._ledger.StateAsync(cluster, cancellationToken).ConfigureAwait(false);
            if (state is { NeedsChain: false })
            {
                (_durable, _startAt) = (state.DurableRevision, state.DurableRevision + 1);
                return;
            }

            var bases = await service._ledger.BasesAsync(cluster, cancellationToken, state?.HistorySince).ConfigureAwait(false);
            var start = bases.Count > 0 ? bases[^1] : await FullSnapshotAsync(cancellationToken).ConfigureAwait(false);
            await service._ledger.RestartAtAsync(cluster, start.Revision, start.At, _watcher, Clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            (_durable, _startAt) = (start.Revision, start.Revision);
            if (_unresumedBreak is { } id)
            {
                await service._ledger.ResumeBreakAsync(id, start.Revision, cancellationToken).ConfigureAwait(false);
                _unresumedBreak = null;
            }
        }

        private async Task<BaseSnapshot> FullSnapshotAsync(CancellationToken cancellationToken)
        {
            var record = await service._runner.RunAsync(cluster, BackupTrigger.Continuous, Actor.System(RequestedBy), cancellationToken).ConfigureAwait(false);
            if (record.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallySucceeded) || record.Revision is not { } revision || record.FileName is null)
            {
                throw new BackupException($"the full snapshot continuous backup needs did not succeed: {record.Error ?? record.Status.ToString()}");
            }

            return new BaseSnapshot(record.FileName, revision, record.FinishedAt ?? Clock.GetUtcNow());
        }

        private async Task FollowAsync(CancellationToken stoppingToken)
        {
            var spec = Spec;
            var policy = spec.Backup.Continuous;
            var client = service._clients.For(spec);
            var (choice, _) = await BackupRunner.ChooseMemberAsync(client, spec, stoppingToken).ConfigureAwait(false);
            if (!choice.Found)
            {
                throw new EtcdException(EtcdErrorKind.Unreachable, choice.Note);
            }

            var endpoint = choice.Endpoint!;
            _watcher = $"{service._replica.Name} via {choice.Member!.Name}";
            if (_durable == 0 || await HistoryReplacedAsync(client, endpoint, stoppingToken).ConfigureAwait(false))
            {
                // No chain (the history was replaced before a new full snapshot could be taken), or it was replaced now.
                await StartChainAsync(stoppingToken).ConfigureAwait(false);
            }

            var watch = await client.WatchAsync(endpoint, _startAt, stoppingToken).ConfigureAwait(false);
            await using (watch.ConfigureAwait(false))
            {
                LogWatching(Logger, cluster, choice.Member.Name, _startAt);
                await service._ledger.AdvanceAsync(cluster, _durable, DateTimeOffset.MinValue, _watcher, Clock.GetUtcNow(), stoppingToken).ConfigureAwait(false);
                // The read is cancelled (and awaited) before its enumerator is disposed: an async iterator refuses to be
                // disposed while a MoveNextAsync is pending, which would hide why the loop ended (a flush failure, shutdown).
                using var reading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var batches = watch.ReadAllAsync(reading.Token).GetAsyncEnumerator(reading.Token);
                Task<bool>? next = null;
                try
                {
                    var tick = Clock.GetUtcNow() + policy.FlushInterval;
                    while (true)
                    {
                        next ??= batches.MoveNextAsync().AsTask();
                        var wait = tick - Clock.GetUtcNow();
                        if (wait > TimeSpan.Zero)
                        {
                            await Task.WhenAny(next, Task.Delay(wait, Clock, stoppingToken)).ConfigureAwait(false);
                        }

                        stoppingToken.ThrowIfCancellationRequested();
                        if (next.IsCompleted)
                        {
                            if (!await next.ConfigureAwait(false))
                            {
                                throw new EtcdException(EtcdErrorKind.Unreachable, $"the watch on {endpoint.Authority} ended");
                            }

                            var batch = batches.Current;
                            next = null;
                            if (batch.IsCompacted || batch.CancelReason is not null)
                            {
                                await FlushAsync(client, endpoint, spec, stoppingToken).ConfigureAwait(false);
                                if (!batch.IsCompacted)
                                {
                                    throw new EtcdException(EtcdErrorKind.Unreachable, $"etcd cancelled the watch on {endpoint.Authority}: {batch.CancelReason}");
                                }

                                await RecoverFromCompactionAsync(batch.CompactRevision, stoppingToken).ConfigureAwait(false);
                                return;
                            }

                            if (batch.IsProgress)
                            {
                                // Every event up to the header was sent: with nothing buffered, nothing newer than the
                                // durable revision exists, so the durable time moves to now with no object written.
                                if (_buffer.Count == 0 && batch.HeaderRevision <= _durable)
                                {
                                    await service._ledger.AdvanceAsync(cluster, _durable, Clock.GetUtcNow(), _watcher, Clock.GetUtcNow(), stoppingToken).ConfigureAwait(false);
                                }
                            }
                            else
                            {
                                Buffer(batch, Clock.GetUtcNow());
                                if (_bufferBytes >= policy.MaxSegmentBytes)
                                {
                                    await FlushAsync(client, endpoint, spec, stoppingToken).ConfigureAwait(false);
                                }
                            }
                        }

                        if (Clock.GetUtcNow() >= tick)
                        {
                            await FlushAsync(client, endpoint, spec, stoppingToken).ConfigureAwait(false);
                            await watch.RequestProgressAsync(stoppingToken).ConfigureAwait(false);
                            if (Clock.GetUtcNow() >= _pruneAt)
                            {
                                _pruneAt = Clock.GetUtcNow() + PruneEvery;
                                await service._pruning.PruneAsync(spec, stoppingToken).ConfigureAwait(false);
                            }

                            tick = Clock.GetUtcNow() + policy.FlushInterval;
                        }
                    }
                }
                finally
                {
                    await reading.CancelAsync().ConfigureAwait(false);
                    if (next is not null)
                    {
                        try
                        {
                            await next.ConfigureAwait(false);
                        }
                        catch (Exception ex) when (ex is not OutOfMemoryException)
                        {
                            // The read was cancelled above, or had failed already: the loop's own outcome is what counts.
                        }
                    }

                    await batches.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        /// <summary>Groups a batch's events by revision (a batch holds whole revisions), each stamped with the receive time.</summary>
        private void Buffer(EtcdWatchBatch batch, DateTimeOffset receivedAt)
        {
            foreach (var revision in batch.Events.GroupBy(e => e.ModRevision))
            {
                var last = _buffer.Count > 0 ? _buffer[^1].Revision : _durable;
                if (revision.Key <= last && _buffer.Count > 0)
                {
                    continue; // already buffered (a watch resumed inside the buffer)
                }

                var events = revision.ToList();
                _buffer.Add(new DeltaRevision(revision.Key, receivedAt, events));
                _bufferBytes += events.Sum(e => e.ApproximateSize);
            }

            if (_buffer.Count > 0)
            {
                LogBuffered(Logger, cluster, _buffer[^1].Revision, _buffer.Count);
            }
        }

        private async Task FlushAsync(EtcdClusterClient client, Uri endpoint, ClusterSpec spec, CancellationToken cancellationToken)
        {
            if (_buffer.Count == 0)
            {
                return;
            }

            var leases = new Dictionary<long, long>();
            foreach (var lease in _buffer.SelectMany(r => r.Events).Select(e => e.Lease).Where(l => l != 0).Distinct())
            {
                leases[lease] = await client.LeaseGrantedTtlAsync(endpoint, lease, cancellationToken).ConfigureAwait(false);
            }

            var segment = new DeltaSegment(spec.Name, _buffer[0].Revision, _buffer[^1].Revision, [.. _buffer], leases);
            await service._writer.WriteAsync(spec, segment, cancellationToken).ConfigureAwait(false);
            await service._ledger.AdvanceAsync(cluster, segment.LastRevision, segment.LastTime, _watcher, Clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            _durable = Math.Max(_durable, segment.LastRevision);
            _startAt = _durable + 1;
            _buffer.Clear();
            _bufferBytes = 0;
        }

        /// <summary>
        /// etcd compacted past what the watcher had read: the revisions after the durable one are gone. Recorded as a
        /// break (never silent), then a full snapshot is taken at once and the chain starts again from its revision.
        /// </summary>
        private async Task RecoverFromCompactionAsync(long compactRevision, CancellationToken cancellationToken)
        {
            var reason = $"etcd compacted its history up to revision {compactRevision} while continuous backup had made revisions up to {_durable} durable (the watcher fell behind, or the console was stopped): revisions {_durable + 1} to {compactRevision - 1} cannot be rebuilt";
            LogBreak(Logger, cluster, reason);
            var id = await service._ledger.RecordBreakAsync(cluster, _durable, Clock.GetUtcNow(), reason, cancellationToken).ConfigureAwait(false);
            await RecordErrorAsync(reason).ConfigureAwait(false);
            var snapshot = await FullSnapshotAsync(cancellationToken).ConfigureAwait(false);
            await service._ledger.ResumeBreakAsync(id, snapshot.Revision, cancellationToken).ConfigureAwait(false);
            await service._ledger.RestartAtAsync(cluster, snapshot.Revision, snapshot.At, _watcher, Clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            (_durable, _startAt) = (snapshot.Revision, snapshot.Revision);
            _buffer.Clear();
            _bufferBytes = 0;
            LogResumed(Logger, cluster, snapshot.FileName, snapshot.Revision);
        }

        /// <summary>
        /// Was the cluster's history replaced since the chain was captured? A restore gives the cluster a new id, and
        /// (without a revision bump) a revision below the durable one; watching on from the durable revision would
        /// splice the new history onto the old. Then: a recorded break, the old history set aside (still in the
        /// targets, no longer offered), and the caller starts a new chain from a full snapshot of the new history.
        /// </summary>
        private async Task<bool> HistoryReplacedAsync(EtcdClusterClient client, Uri endpoint, CancellationToken cancellationToken)
        {
            var status = await client.StatusAsync(endpoint, cancellationToken).ConfigureAwait(false);
            var clusterId = status.ClusterId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
            var state = await service._ledger.StateAsync(cluster, cancellationToken).ConfigureAwait(false);
            if (state?.ClusterId is null)
            {
                await service._ledger.SetClusterIdAsync(cluster, clusterId, cancellationToken).ConfigureAwait(false);
                if (status.Revision >= _durable)
                {
                    return false;
                }
            }
            else if (state.ClusterId == clusterId && status.Revision >= _durable)
            {
                return false;
            }

            var reason = state?.ClusterId is { } before && before != clusterId
                ? $"the cluster's history was replaced (its cluster id changed from {before} to {clusterId}, as a restore does): changes from before are kept in the targets but no longer offered; a new chain starts from a full snapshot"
                : $"the cluster's history was replaced (its revision {status.Revision} is below the durable revision {_durable}, as after a restore): changes from before are kept in the targets but no longer offered; a new chain starts from a full snapshot";
            LogBreak(Logger, cluster, reason);
            var now = Clock.GetUtcNow();
            _unresumedBreak = await service._ledger.RecordBreakAsync(cluster, _durable, now, reason, cancellationToken).ConfigureAwait(false);
            await service._ledger.ReplaceHistoryAsync(cluster, clusterId, now, cancellationToken).ConfigureAwait(false);
            (_durable, _startAt) = (0, 0);
            _buffer.Clear();
            _bufferBytes = 0;
            return true;
        }

        private async Task FlushOnShutdownAsync()
        {
            if (_buffer.Count == 0)
            {
                return;
            }

            using var bounded = new CancellationTokenSource(ShutdownFlush);
            try
            {
                var spec = Spec;
                var client = service._clients.For(spec);
                var (choice, _) = await BackupRunner.ChooseMemberAsync(client, spec, bounded.Token).ConfigureAwait(false);
                await FlushAsync(client, choice.Endpoint ?? spec.Endpoints[0], spec, bounded.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogShutdownFlushFailed(Logger, cluster, _buffer.Count, ex.Message);
            }
        }

        private async Task RecordErrorAsync(string error)
        {
            try
            {
                await service._ledger.RecordErrorAsync(cluster, _watcher, error, Clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (System.Data.Common.DbException ex)
            {
                LogLoopFailed(Logger, cluster, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Trace, Message = "Continuous backup of {Cluster}: buffered up to revision {Revision} ({Count} revision(s) not yet durable)")]
    private static partial void LogBuffered(ILogger logger, string cluster, long revision, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Continuous backup of {Cluster}: watching {Member} from revision {Revision}")]
    private static partial void LogWatching(ILogger logger, string cluster, string member, long revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Continuous backup of {Cluster}: {Error}; resuming from the last durable revision in {Backoff}")]
    private static partial void LogWatchFailed(ILogger logger, string cluster, string error, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Continuous backup of {Cluster} has a break: {Reason}. Taking a full snapshot now.")]
    private static partial void LogBreak(ILogger logger, string cluster, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Continuous backup of {Cluster} starts again from {FileName} at revision {Revision}")]
    private static partial void LogResumed(ILogger logger, string cluster, string fileName, long revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Continuous backup of {Cluster}: {Count} revision(s) received were not written before shutdown ({Error}); the next start watches again from the last durable revision")]
    private static partial void LogShutdownFlushFailed(ILogger logger, string cluster, int count, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Continuous backup of {Cluster} failed; trying again")]
    private static partial void LogLoopFailed(ILogger logger, string cluster, Exception exception);
}
