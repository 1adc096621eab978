using Console.Infrastructure.Clusters;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Scheduling;

/// <summary>
/// Once the host runs: registers the schedule's tick with Hangfire and applies the schedules at once (so a cluster
/// without a successful backup gets one right away), and again whenever the catalog changes (the sandbox registering,
/// an edit), without waiting for the next tick.
/// </summary>
public sealed partial class SchedulerStartup(
    BackupScheduler scheduler,
    ClusterCatalog catalog,
    ILogger<SchedulerStartup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var changes = System.Threading.Channels.Channel.CreateBounded<bool>(new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });
        void OnChanged() => changes.Writer.TryWrite(true);
        catalog.Changed += OnChanged;
        try
        {
            do
            {
                try
                {
                    await scheduler.SyncAsync(stoppingToken).ConfigureAwait(false);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Synchronising backup schedules failed")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception);
}
