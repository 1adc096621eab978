using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Replicas;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Storage;

/// <summary>
/// The periodic re-verification (Console:Verification:Every): every stored copy of every cluster is re-read, one at a
/// time, by the same code as the Snapshots page's Verify, and recorded as "re-verification". A failed copy then shows on
/// the Snapshots page and the status table, and the restore wizard does not pre-select it. The start of the last pass is
/// kept in the database, so a restart does not re-read everything again, and on PostgreSQL an advisory lock lets one
/// replica run a pass while the others wait for the next.
/// </summary>
public sealed partial class ReverificationService(
    SnapshotCatalog catalog,
    ConsoleStateStore state,
    ClusterBackupLocks locks,
    IOptions<ConsoleSettings> settings,
    TimeProvider clock,
    ILogger<ReverificationService> logger) : BackgroundService
{
    private const string LastPassKey = "reverification:last-pass";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.Value.Verification.Interval is not { } every)
        {
            return;
        }

        try
        {
            while (true)
            {
                TimeSpan wait;
                try
                {
                    wait = await RunIfDueAsync(every, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The database or a store failing mid-pass must not stop the host; the next look tries again.
                    LogPassFailed(logger, ex);
                    wait = VerificationSettings.ShortestEvery;
                }

                await Task.Delay(wait, clock, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs a pass when one is due and no other replica is running one; returns how long to wait before looking again.</summary>
    private async Task<TimeSpan> RunIfDueAsync(TimeSpan every, CancellationToken cancellationToken)
    {
        var due = await NextPassAtAsync(every, cancellationToken).ConfigureAwait(false) - clock.GetUtcNow();
        if (due > TimeSpan.Zero)
        {
            // Then the last pass is read again: another replica may have run one meanwhile.
            return due;
        }

        var held = await locks.TryTakeReverificationAsync(cancellationToken).ConfigureAwait(false);
        if (held is null)
        {
            // Another replica is running a pass; it recorded its start, so the next look waits for the one after.
            return VerificationSettings.ShortestEvery;
        }

        await using (held.ConfigureAwait(false))
        {
            // Under the lock, read again: the replica that held it may have just finished a pass.
            if (await NextPassAtAsync(every, cancellationToken).ConfigureAwait(false) <= clock.GetUtcNow())
            {
                var now = clock.GetUtcNow();
                await state.SetAsync(LastPassKey, SqlTime.Text(now), now, cancellationToken).ConfigureAwait(false);
                await PassAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        return every;
    }

    /// <summary>Re-reads every stored copy of every cluster, one at a time. Returns the verifications recorded.</summary>
    public async Task<IReadOnlyList<Verification>> PassAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<SnapshotEntry> entries;
        try
        {
            entries = await catalog.ListAsync(null, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            // A store that cannot be listed is the status table's storage check to show; the next pass tries again.
            LogListFailed(logger, ex);
            return [];
        }

        var results = new List<Verification>();
        var failed = 0;
        foreach (var entry in entries)
        {
            foreach (var copy in entry.Copies)
            {
                var verification = await catalog.ReverifyAsync(copy.Target, entry.Name, cancellationToken).ConfigureAwait(false);
                if (!verification.Ok)
                {
                    failed++;
                    LogCopyFailed(logger, copy.Target, entry.Name.FileName, verification.Detail);
                }

                results.Add(verification);
            }
        }

        LogPassDone(logger, results.Count, failed);
        return results;
    }

    private async Task<DateTimeOffset> NextPassAtAsync(TimeSpan every, CancellationToken cancellationToken) =>
        await state.GetAsync(LastPassKey, cancellationToken).ConfigureAwait(false) is { } last
            ? SqlTime.Parse(last) + every
            : DateTimeOffset.MinValue;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-verification: the {Target} copy of {FileName} failed: {Detail}")]
    private static partial void LogCopyFailed(ILogger logger, string target, string fileName, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-verification re-read {Copies} stored copies; {Failed} failed")]
    private static partial void LogPassDone(ILogger logger, int copies, int failed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Re-verification failed; it tries again in a minute")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-verification could not list the stores; the next pass tries again")]
    private static partial void LogListFailed(ILogger logger, Exception exception);
}
