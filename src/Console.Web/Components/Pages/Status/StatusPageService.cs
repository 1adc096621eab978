using System.Collections.Immutable;
using System.Threading.Channels;
using Console.Domain.Access;
using Console.Domain.Clusters;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Replicas;
using Console.Infrastructure.Scheduling;
using Console.Infrastructure.Storage;

namespace Console.Web.Components.Pages.Status;

/// <summary>One configured cluster and its latest health (not polled yet until the monitor has asked it).</summary>
public sealed record ClusterStatus(ClusterSpec Spec, ClusterHealth Health);

/// <summary>A console replica on the status page: alive while its heartbeat is newer than DeadAfter; <see cref="Self"/> is the one serving this page.</summary>
public sealed record ReplicaRow(ReplicaInfo Info, bool Alive, bool Self);

/// <summary>
/// Everything the status page shows at one moment. Never changed once published: the page keeps the one it was
/// given and renders it on its own thread. <see cref="Runs"/> holds the backups in flight, by cluster.
/// </summary>
public sealed record StatusSnapshot(
    IReadOnlyList<ClusterStatus> Clusters,
    IReadOnlyList<BackupStatusRow> Backups,
    ImmutableDictionary<string, BackupProgress> Runs,
    DateTimeOffset Now,
    string? Error = null,
    IReadOnlyList<ReplicaRow>? Replicas = null)
{
    public static StatusSnapshot Empty { get; } = new([], [], ImmutableDictionary<string, BackupProgress>.Empty, DateTimeOffset.MinValue);
}

/// <summary>
/// The status page's one service: it listens to the cluster poller, the catalog, the scheduler, storage checks and
/// backup progress while someone subscribes, and hands each subscriber an immutable <see cref="StatusSnapshot"/>.
/// Changes that need the records (a run starting or ending, a schedule edit) are coalesced into one rebuild at a time;
/// health and streaming progress are applied without touching the database. Ages move on every 15 seconds.
/// </summary>
public sealed partial class StatusPageService(
    ClusterStatusBoard board,
    ClusterCatalog catalog,
    BackupStatusService backups,
    BackupScheduler scheduler,
    BackupRunner runner,
    BackupProgressFeed feed,
    StorageHealthMonitor storage,
    Console.Infrastructure.Drills.IRestoreDrills drills,
    ReplicaStore replicas,
    ReplicaIdentity self,
    Microsoft.Extensions.Options.IOptions<Domain.Configuration.ConsoleSettings> settings,
    TimeProvider clock,
    ILogger<StatusPageService> logger) : IDisposable
{
    private static readonly TimeSpan AgeTick = TimeSpan.FromSeconds(15);

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _building = new(1, 1);
    private readonly Channel<bool> _stale = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private ImmutableArray<Action<StatusSnapshot>> _subscribers = [];
    private CancellationTokenSource? _listening;
    private IDisposable? _progress;

    public StatusSnapshot Current { get; private set; } = StatusSnapshot.Empty;

    /// <summary>Reads everything now (the page's first render) and publishes it.</summary>
    public async Task<StatusSnapshot> LoadAsync(CancellationToken cancellationToken)
    {
        await RebuildAsync(cancellationToken);
        return Current;
    }

    /// <summary>Every later snapshot goes to <paramref name="onChange"/> (on the publisher's thread) until the subscription is disposed.</summary>
    public IDisposable Subscribe(Action<StatusSnapshot> onChange)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        lock (_gate)
        {
            _subscribers = _subscribers.Add(onChange);
            if (_subscribers.Length == 1)
            {
                StartListening();
            }
        }

        return new Subscription(this, onChange);
    }

    /// <summary>Asks the poller to check every cluster now.</summary>
    public void RequestRefresh() => board.RequestRefresh();

    public Task TogglePauseAsync(string cluster, Actor by, CancellationToken cancellationToken) =>
        catalog.Find(cluster)?.Backup.Paused == true
            ? scheduler.ResumeAsync(cluster, by, cancellationToken)
            : scheduler.PauseAsync(cluster, by, cancellationToken);

    public Task<BackupStart> BackUpNowAsync(string cluster, Actor by, CancellationToken cancellationToken) =>
        runner.StartAsync(cluster, Domain.Backups.BackupTrigger.Manual, by, cancellationToken);

    private void StartListening()
    {
        _listening = new CancellationTokenSource();
        board.Changed += OnHealthChanged;
        catalog.Changed += MarkStale;
        scheduler.Changed += MarkStale;
        storage.Changed += MarkStale;
        drills.Changed += MarkStale; // a drill ending changes "last drill"
        _progress = feed.Subscribe(OnProgress);
        _ = RebuildLoopAsync(_listening.Token);
    }

    private void StopListening()
    {
        board.Changed -= OnHealthChanged;
        catalog.Changed -= MarkStale;
        scheduler.Changed -= MarkStale;
        storage.Changed -= MarkStale;
        drills.Changed -= MarkStale;
        _progress?.Dispose();
        _listening?.Cancel();
        _listening?.Dispose();
        _listening = null;
    }

    private void MarkStale() => _stale.Writer.TryWrite(true);

    private void OnHealthChanged() => Update(s => s with { Clusters = ReadClusters() });

    private void OnProgress(BackupProgress progress)
    {
        // A run starting or ending changes the table (last attempt, failures); the bytes in between only the bar.
        if (progress.Phase is BackupPhase.Starting or BackupPhase.ChoosingMember or BackupPhase.Finished)
        {
            MarkStale();
        }

        Update(s => s with { Runs = progress.IsFinished ? s.Runs.Remove(progress.Cluster) : s.Runs.SetItem(progress.Cluster, progress) });
    }

    private async Task RebuildLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    wait.CancelAfter(AgeTick);
                    try
                    {
                        await _stale.Reader.ReadAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // The tick passed: ages and staleness move on.
                    }
                }

                await RebuildAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task RebuildAsync(CancellationToken cancellationToken)
    {
        await _building.WaitAsync(cancellationToken);
        try
        {
            var now = clock.GetUtcNow();
            try
            {
                var rows = await backups.GetAsync(cancellationToken);
                var peers = await ReadReplicasAsync(now, cancellationToken);
                Update(_ => new StatusSnapshot(ReadClusters(), rows, ReadRuns(), now, Replicas: peers));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever failed (the records, or the job storage under load, whose driver throws its own exception
                // types), the page keeps its loop: the clusters' health does not need the records, so it goes on showing
                // that, with the last table and why it is old, and the next change or tick tries again.
                LogRebuildFailed(logger, ex);
                Update(s => s with { Clusters = ReadClusters(), Runs = ReadRuns(), Now = now, Error = $"Reading the backup records failed: {ex.Message}" });
            }
        }
        finally
        {
            _building.Release();
        }
    }

    private async Task<List<ReplicaRow>> ReadReplicasAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var deadAfter = settings.Value.Replica.DeadAfter;
        return [.. (await replicas.AllAsync(cancellationToken)).Select(r => new ReplicaRow(r, r.IsAliveAt(now, deadAfter), r.Name == self.Name))];
    }

    private List<ClusterStatus> ReadClusters()
    {
        var health = board.Current;
        return [.. catalog.All.Select(c => new ClusterStatus(c, health.GetValueOrDefault(c.Name) ?? ClusterHealth.NotPolled(c.Name)))];
    }

    private ImmutableDictionary<string, BackupProgress> ReadRuns() => catalog.All
        .Select(c => feed.Latest(c.Name.Value))
        .OfType<BackupProgress>()
        .Where(p => !p.IsFinished)
        .ToImmutableDictionary(p => p.Cluster, StringComparer.Ordinal);

    private void Update(Func<StatusSnapshot, StatusSnapshot> change)
    {
        // Under the lock, so two publishers never hand out snapshots in the opposite order to the one they were made in.
        lock (_gate)
        {
            Current = change(Current);
            foreach (var subscriber in _subscribers)
            {
                subscriber(Current);
            }
        }
    }

    private void Unsubscribe(Action<StatusSnapshot> onChange)
    {
        lock (_gate)
        {
            var remaining = _subscribers.Remove(onChange);
            if (remaining.Length == _subscribers.Length)
            {
                return; // disposed twice
            }

            _subscribers = remaining;
            if (_subscribers.IsEmpty)
            {
                StopListening();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (!_subscribers.IsEmpty)
            {
                _subscribers = [];
                StopListening();
            }
        }
    }

    private sealed class Subscription(StatusPageService service, Action<StatusSnapshot> onChange) : IDisposable
    {
        public void Dispose() => service.Unsubscribe(onChange);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The status page could not read the backup records; it tries again on the next change")]
    private static partial void LogRebuildFailed(ILogger logger, Exception exception);
}
