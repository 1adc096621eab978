using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Backups;

/// <summary>
/// Runs first at start-up: brings the database schema up to date, applies the persisted backup-setting overrides,
/// marks records a crashed console (this replica, or a dead one) left Running as Interrupted, and removes our leftover partial files (never anything at a final name, never a file not ours).
/// </summary>
public sealed partial class BackupStartup(
    ConsoleDatabase database,
    BackupOverrideStore overrides,
    Clusters.ClusterCatalog catalog,
    LocalSnapshotStore store,
    BackupRunner runner,
    Replicas.ReplicaMonitor replicas,
    ILogger<BackupStartup> logger,
    Hosting.ShutdownWatch? shutdown = null) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await database.MigrateAsync(cancellationToken).ConfigureAwait(false);
        LogDatabase(logger, database.Description, ConsoleDatabase.SchemaVersion);

        // Settings changed in the console (pause, schedule, retention) apply on top of the configuration file.
        catalog.SetOverrides(await overrides.LoadAsync(cancellationToken).ConfigureAwait(false));
        // This replica's own runs (it crashed and restarted) and those of dead replicas; never a live peer's (0022).
        var interrupted = await replicas.SettleAtStartAsync(cancellationToken).ConfigureAwait(false);
        if (interrupted > 0)
        {
            LogInterrupted(logger, interrupted);
        }

        foreach (var file in store.RemoveLeftovers())
        {
            LogLeftover(logger, file);
        }
    }

    /// <summary>
    /// Runs in flight were cancelled when shutdown began; give them until the host's shutdown time is up to record how
    /// they ended, so none is left Running with a partial file for the next start to settle.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var runs = runner.Running;
        var waits = runs.Select(r => shutdown?.Waiting(() => $"the backup of {r.Cluster} (record {r.RecordId}, {r.Progress.Phase}) to record how it ended")).ToList();
        try
        {
            await Task.WhenAll(runs.Select(r => r.Completion)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            foreach (var run in runs.Where(r => !r.Completion.IsCompleted))
            {
                LogRunLeft(logger, run.Cluster, run.RecordId);
            }
        }
        finally
        {
            waits.ForEach(w => w?.Dispose());
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The backup of {Cluster} (record {RecordId}) had not ended when the shutdown time was up; the next start records it as Interrupted")]
    private static partial void LogRunLeft(ILogger logger, string cluster, long recordId);

    // Description names the file, or host, port, database and user: never the password.
    [LoggerMessage(Level = LogLevel.Information, Message = "The console's state is in {Database} (schema version {Version})")]
    private static partial void LogDatabase(ILogger logger, string database, int version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} backup(s) were running when the console last stopped; recorded as Interrupted")]
    private static partial void LogInterrupted(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed the unfinished snapshot file {File} left by an earlier run")]
    private static partial void LogLeftover(ILogger logger, string file);
}
