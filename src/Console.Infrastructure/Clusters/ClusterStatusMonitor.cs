using Console.Domain.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Clusters;

/// <summary>The one timer that polls every cluster and publishes what it found to the <see cref="ClusterStatusBoard"/>.</summary>
public sealed partial class ClusterStatusMonitor(
    ClusterCatalog catalog,
    ClusterProbe probe,
    ClusterStatusBoard board,
    IOptions<ConsoleSettings> settings,
    ILogger<ClusterStatusMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = settings.Value.Etcd.PollInterval;
        catalog.Changed += board.RequestRefresh;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await PollAllAsync(stoppingToken).ConfigureAwait(false);
                await board.WaitForRefreshRequestAsync(interval, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            catalog.Changed -= board.RequestRefresh;
        }
    }

    private async Task PollAllAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(catalog.All.Select(async cluster =>
        {
            try
            {
                var health = await probe.ProbeAsync(cluster, cancellationToken).ConfigureAwait(false);
                board.Publish(health);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogProbeFailed(logger, cluster.Name.Value, ex);
            }
        })).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Polling cluster {Cluster} failed unexpectedly")]
    private static partial void LogProbeFailed(ILogger logger, string cluster, Exception exception);
}
