using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Replicas;

/// <summary>
/// Every HeartbeatInterval: says this replica is alive, and marks Interrupted the Running backups of replicas not heard
/// from within DeadAfter (a replica killed mid-backup never records how its run ended). It removes nothing: only the
/// replica that wrote a partial file removes it, at its next start (decision record 0022).
/// </summary>
public sealed partial class ReplicaMonitor(
    ReplicaIdentity self,
    ReplicaStore replicas,
    BackupRecordStore records,
    ConsoleDatabase database,
    IOptions<ConsoleSettings> settings,
    TimeProvider clock,
    ILogger<ReplicaMonitor> logger) : BackgroundService
{
    // Replicas gone this long leave the status page (their runs were settled long before).
    private static readonly TimeSpan Forget = TimeSpan.FromDays(1);

    private ReplicaSettings Settings => settings.Value.Replica;

    /// <summary>
    /// At start-up, before anything runs a backup: this replica's row, then the runs it left Running itself (it crashed and
    /// restarted under the same name) and those of dead replicas. One console alone (SQLite) settles every Running record,
    /// as before replicas. Returns how many records became Interrupted.
    /// </summary>
    public async Task<int> SettleAtStartAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await replicas.HeartbeatAsync(self, now, cancellationToken).ConfigureAwait(false);
        if (!database.IsPostgres)
        {
            await replicas.ForgetAsync(DateTimeOffset.MaxValue, self.Name, cancellationToken).ConfigureAwait(false);
            return await records.MarkInterruptedAsync(now, cancellationToken).ConfigureAwait(false);
        }

        var own = await records.MarkInterruptedAsync(self.Name, now, null, StoppedError, cancellationToken).ConfigureAwait(false);
        return own + await SweepAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Marks Interrupted the Running records of replicas not heard from within DeadAfter. Returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var deadBefore = now - Settings.DeadAfter;
        var count = 0;
        foreach (var (replica, lastSeen) in await records.DeadRunnersAsync(self.Name, deadBefore, cancellationToken).ConfigureAwait(false))
        {
            var error = replica is null
                ? StoppedError
                : lastSeen is { } seen
                    ? $"the console replica '{replica}' stopped while this backup was running (last seen {seen:yyyy-MM-dd HH:mm:ss}Z, no heartbeat for {Settings.DeadAfter.TotalSeconds:0} s); no snapshot was kept"
                    : $"the console replica '{replica}' stopped while this backup was running (not seen since); no snapshot was kept";
            var marked = await records.MarkInterruptedAsync(replica, now, deadBefore, error, cancellationToken).ConfigureAwait(false);
            if (marked > 0)
            {
                LogSwept(logger, marked, replica ?? "(unnamed)", lastSeen);
            }

            count += marked;
        }

        return count;
    }

    private const string StoppedError = "the console stopped while this backup was running; no snapshot was kept";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Settings.HeartbeatInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await replicas.HeartbeatAsync(self, clock.GetUtcNow(), stoppingToken).ConfigureAwait(false);
                    await SweepAsync(stoppingToken).ConfigureAwait(false);
                    await replicas.ForgetAsync(clock.GetUtcNow() - Forget, self.Name, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The database may be back at the next beat; DeadAfter spans several.
                    LogBeatFailed(logger, self.Name, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} backup(s) of replica {Replica} (last seen {LastSeen:O}) were running when it stopped; recorded as Interrupted")]
    private static partial void LogSwept(ILogger logger, int count, string replica, DateTimeOffset? lastSeen);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Replica} could not record its heartbeat or look for dead replicas")]
    private static partial void LogBeatFailed(ILogger logger, string replica, Exception exception);
}
