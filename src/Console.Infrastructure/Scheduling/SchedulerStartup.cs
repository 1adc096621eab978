using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Persistence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Scheduling;

/// <summary>
/// After Quartz has started: brings triggers in line with the clusters, re-syncs whenever the catalog changes (the
/// sandbox registering, an edit), and gives every scheduled cluster without a successful backup one right away.
/// </summary>
public sealed partial class SchedulerStartup(
    BackupScheduler scheduler,
    ClusterCatalog catalog,
    BackupRunner runner,
    BackupRecordStore records,
    ILogger<SchedulerStartup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var changes = System.Threading.Channels.Channel.CreateBounded<bool>(new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });
        void OnChanged() => changes.Writer.TryWrite(true);
        catalog.Changed += OnChanged;
        try
        {
            var firstBackupsTaken = new HashSet<string>(StringComparer.Ordinal);
            do
            {
                try
                {
                    await scheduler.SyncAsync(stoppingToken).ConfigureAwait(false);
                    await StartFirstBackupsAsync(firstBackupsTaken, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogSyncFailed(logger, ex);
                }
            }
            while (await changes.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false) && changes.Reader.TryRead(out _));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            catalog.Changed -= OnChanged;
        }
    }

    private async Task StartFirstBackupsAsync(HashSet<string> alreadyStarted, CancellationToken cancellationToken)
    {
        foreach (var cluster in catalog.All)
        {
            var name = cluster.Name.Value;
            if (alreadyStarted.Contains(name))
            {
                continue;
            }

            var succeeded = await records.LastSuccessAsync(name, cancellationToken).ConfigureAwait(false) is not null;
            if (BackupTriggers.NeedsFirstBackup(cluster.Backup, succeeded, runner.RunningFor(name) is not null))
            {
                alreadyStarted.Add(name);
                LogFirstBackup(logger, name);
                await runner.StartAsync(name, BackupTrigger.Scheduled, Console.Domain.Access.Actor.System("scheduler (first backup)"), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Cluster} has backups scheduled but no successful backup yet: taking one now")]
    private static partial void LogFirstBackup(ILogger logger, string cluster);

    [LoggerMessage(Level = LogLevel.Error, Message = "Synchronising backup schedules failed")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception);
}
