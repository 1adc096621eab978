using System.Collections.Immutable;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Storage;

/// <summary>Whether a storage target can take a snapshot right now, as last checked (Velero's storage-location phase).</summary>
public sealed record StorageHealth(string Target, bool Ok, string Detail, long? FreeBytes, DateTimeOffset CheckedAt);

/// <summary>
/// Checks every storage target periodically, and right after each backup on it, and keeps the latest result for the
/// status table. A target that is writable but has less free space than the last snapshot written to it (or that
/// failed to fit) is not healthy: the next backup would fail.
/// </summary>
public sealed partial class StorageHealthMonitor(SnapshotStores stores, IOptions<ConsoleSettings> settings, TimeProvider clock, Microsoft.Extensions.Logging.ILogger<StorageHealthMonitor>? logger = null) : BackgroundService
{
    private ImmutableDictionary<string, StorageHealth> _current = ImmutableDictionary<string, StorageHealth>.Empty;

    // target -> cluster -> size of the last snapshot of that cluster meant for that target.
    private ImmutableDictionary<string, ImmutableDictionary<string, long>> _needed = ImmutableDictionary<string, ImmutableDictionary<string, long>>.Empty;

    public event Action? Changed;

    public IReadOnlyDictionary<string, StorageHealth> Current => _current;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.Value.Scheduler.StorageCheckInterval, clock);
        do
        {
            await CheckNowAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    public Task CheckNowAsync(CancellationToken cancellationToken) => CheckAsync(stores.All, cancellationToken);

    /// <summary>
    /// Re-checks the targets a backup just wrote to (or failed to), so the status table does not go on saying
    /// "writable, N free" for a minute after a full disk. <paramref name="snapshotBytes"/> is the snapshot's size, known
    /// even when the write failed; it is what the next backup of the cluster will need.
    /// </summary>
    public Task CheckAfterBackupAsync(string cluster, IEnumerable<string> targets, long? snapshotBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var checkedTargets = targets.Select(stores.Find).OfType<ISnapshotStore>().ToList();
        if (snapshotBytes is > 0 and var size)
        {
            foreach (var store in checkedTargets)
            {
                ImmutableInterlocked.AddOrUpdate(
                    ref _needed,
                    store.Target,
                    _ => ImmutableDictionary<string, long>.Empty.SetItem(cluster, size),
                    (_, byCluster) => byCluster.SetItem(cluster, size));
            }
        }

        return CheckAsync(checkedTargets, cancellationToken);
    }

    private async Task CheckAsync(IEnumerable<ISnapshotStore> targets, CancellationToken cancellationToken)
    {
        foreach (var store in targets)
        {
            StorageHealth result;
            try
            {
                result = await store.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A check must never take the console down (a BackgroundService's exception stops the host).
                result = new StorageHealth(store.Target, false, $"the check failed: {ex.Message}", null, clock.GetUtcNow());
                if (logger is not null)
                {
                    LogCheckFailed(logger, store.Target, ex);
                }
            }

            result = WithRoomForNextSnapshot(result);
            ImmutableInterlocked.Update(ref _current, (current, r) => current.SetItem(r.Target, r), result with { CheckedAt = clock.GetUtcNow() });
        }

        Changed?.Invoke();
    }

    private StorageHealth WithRoomForNextSnapshot(StorageHealth health)
    {
        if (!health.Ok || health.FreeBytes is not { } free || !_needed.TryGetValue(health.Target, out var byCluster) || byCluster.IsEmpty)
        {
            return health;
        }

        var (cluster, needed) = byCluster.MaxBy(c => c.Value);
        return needed <= free
            ? health
            : health with { Ok = false, Detail = $"{health.Detail}, but only {ByteSize.Format(free)} is free and the last snapshot of {cluster} was {ByteSize.Format(needed)}: the next one will not fit" };
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "Checking the {Target} storage target failed")]
    private static partial void LogCheckFailed(Microsoft.Extensions.Logging.ILogger logger, string target, Exception exception);
}
