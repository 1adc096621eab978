using System.Collections.Immutable;
using Console.Domain.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Storage;

/// <summary>Whether a storage target can take a snapshot right now, as last checked (Velero's storage-location phase).</summary>
public sealed record StorageHealth(string Target, bool Ok, string Detail, long? FreeBytes, DateTimeOffset CheckedAt);

/// <summary>Checks every storage target periodically and keeps the latest result for the status table.</summary>
public sealed class StorageHealthMonitor(LocalSnapshotStore local, IOptions<ConsoleSettings> settings, TimeProvider clock) : BackgroundService
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
        var result = await CheckLocalAsync(cancellationToken).ConfigureAwait(false);
        _current = _current.SetItem(result.Target, result);
        Changed?.Invoke();
    }

    /// <summary>Writes, fsyncs and deletes a small file in the snapshot directory, and reads the free space there.</summary>
    private async Task<StorageHealth> CheckLocalAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        try
        {
            Directory.CreateDirectory(local.Directory);
            var probe = Path.Combine(local.Directory, $".health-{Guid.NewGuid():N}");
            await File.WriteAllTextAsync(probe, "ok", cancellationToken).ConfigureAwait(false);
            File.Delete(probe);
            var free = new DriveInfo(local.Directory).AvailableFreeSpace;
            return new StorageHealth("local", true, $"{local.Directory} is writable", free, now);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new StorageHealth("local", false, $"{local.Directory} is not writable: {ex.Message}", null, now);
        }
    }
}
