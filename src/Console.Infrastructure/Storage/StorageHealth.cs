using System.Collections.Immutable;
using Console.Domain.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Storage;

/// <summary>Whether a storage target can take a snapshot right now, as last checked (Velero's storage-location phase).</summary>
public sealed record StorageHealth(string Target, bool Ok, string Detail, long? FreeBytes, DateTimeOffset CheckedAt);

/// <summary>Checks every storage target periodically and keeps the latest result for the status table.</summary>
public sealed partial class StorageHealthMonitor(SnapshotStores stores, IOptions<ConsoleSettings> settings, TimeProvider clock, Microsoft.Extensions.Logging.ILogger<StorageHealthMonitor>? logger = null) : BackgroundService
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

            _current = _current.SetItem(result.Target, result with { CheckedAt = clock.GetUtcNow() });
        }

        Changed?.Invoke();
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "Checking the {Target} storage target failed")]
    private static partial void LogCheckFailed(Microsoft.Extensions.Logging.ILogger logger, string target, Exception exception);
}
