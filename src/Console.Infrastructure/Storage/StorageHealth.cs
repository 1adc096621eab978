using System.Collections.Immutable;
using Console.Domain.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Storage;

/// <summary>Whether a storage target can take a snapshot right now, as last checked (Velero's storage-location phase).</summary>
public sealed record StorageHealth(string Target, bool Ok, string Detail, long? FreeBytes, DateTimeOffset CheckedAt);

/// <summary>Checks every storage target periodically and keeps the latest result for the status table.</summary>
public sealed class StorageHealthMonitor(SnapshotStores stores, IOptions<ConsoleSettings> settings, TimeProvider clock) : BackgroundService
{
    private ImmutableDictionary<string, StorageHealth> _current = ImmutableDictionary<string, StorageHealth>.Empty;

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

    public async Task CheckNowAsync(CancellationToken cancellationToken)
    {
        foreach (var store in stores.All)
        {
            var result = await store.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
            _current = _current.SetItem(result.Target, result with { CheckedAt = clock.GetUtcNow() });
        }

        Changed?.Invoke();
    }
}
