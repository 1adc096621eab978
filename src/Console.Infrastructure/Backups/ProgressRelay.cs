using System.Collections.Concurrent;
using System.Threading.Channels;
using Console.Domain.Backups;
using Console.Infrastructure.Persistence;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Console.Infrastructure.Backups;

/// <summary>
/// Live backup progress across console replicas on one PostgreSQL database (decision record 0023), so a browser on any
/// replica sees every run. Outgoing: each update of this process's runs is sent with <c>NOTIFY</c>, at most one every
/// <see cref="SendInterval"/> per run (phase changes and the final update always, the last one held back sent when
/// due), in order, from one loop. Incoming: a dedicated connection <c>LISTEN</c>s and republishes other processes'
/// updates on the local <see cref="BackupProgressFeed"/>, marked <see cref="BackupProgress.Relayed"/> (so they are not
/// sent back out); a final one is replaced by the record read from the database. Notifications missed while the
/// connection was down are made up by a reconcile with the records, on every (re)connect and every
/// <see cref="ReconcileInterval"/>: a run in flight elsewhere is shown, one that ended unnoticed is shown ended.
/// Registered on PostgreSQL only; with SQLite there is one process and nothing to relay.
/// </summary>
public sealed partial class ProgressRelay(
    ConsoleDatabase database,
    BackupRecordStore records,
    BackupProgressFeed feed,
    TimeProvider clock,
    ILogger<ProgressRelay> logger) : BackgroundService
{
    public const string ChannelName = "etcd_console_progress";

    internal static readonly TimeSpan SendInterval = TimeSpan.FromMilliseconds(250);
    internal static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(30);

    private readonly Channel<BackupProgress> _outgoing = Channel.CreateUnbounded<BackupProgress>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentQueue<string> _incoming = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>This process's id on the channel: its own notifications come back to it and are dropped by it.</summary>
    internal string Origin { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Completes once the relay listens and has reconciled for the first time.</summary>
    internal Task Listening => _listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = feed.Subscribe(p =>
        {
            // Updates this relay republished are other processes' runs: sending them again would echo them round.
            if (!p.Relayed)
            {
                _outgoing.Writer.TryWrite(p);
            }
        });
        await Task.WhenAll(SendLoopAsync(stoppingToken), ListenLoopAsync(stoppingToken), ReconcileLoopAsync(stoppingToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// Every <see cref="ReconcileInterval"/>, on connections of its own: kept apart from the listening connection's
    /// wait, so a wait that does not come back (seen on a loaded machine with no notifications arriving) cannot stop the
    /// feed from learning of runs that ended elsewhere.
    /// </summary>
    private async Task ReconcileLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _listening.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                await Task.Delay(ReconcileInterval, clock, cancellationToken).ConfigureAwait(false);
                try
                {
                    await ReconcileAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    LogReconcileFailed(logger, ex.GetType().Name, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        var sent = new Dictionary<long, (BackupPhase Phase, DateTimeOffset At)>();
        var held = new Dictionary<long, BackupProgress>();
        var failing = false;
        try
        {
            while (true)
            {
                var next = held.Count == 0
                    ? await _outgoing.Reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                    : await ReadUntilAsync(held.Keys.Min(id => sent[id].At) + SendInterval, cancellationToken).ConfigureAwait(false);
                var now = clock.GetUtcNow();
                var due = new List<BackupProgress>();
                if (next is not null)
                {
                    held.Remove(next.RecordId);
                    if (next.IsFinished || !sent.TryGetValue(next.RecordId, out var last) || last.Phase != next.Phase || now - last.At >= SendInterval)
                    {
                        due.Add(next);
                    }
                    else
                    {
                        held[next.RecordId] = next;
                    }
                }

                due.AddRange(held.Values.Where(p => now - sent[p.RecordId].At >= SendInterval));
                foreach (var progress in due)
                {
                    held.Remove(progress.RecordId);
                    failing = await SendAsync(progress, failing, cancellationToken).ConfigureAwait(false);
                    if (progress.IsFinished)
                    {
                        sent.Remove(progress.RecordId);
                    }
                    else
                    {
                        sent[progress.RecordId] = (progress.Phase, now);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The next local update, or null when <paramref name="until"/> comes first.</summary>
    private async Task<BackupProgress?> ReadUntilAsync(DateTimeOffset until, CancellationToken cancellationToken)
    {
        var wait = until - clock.GetUtcNow();
        if (wait <= TimeSpan.Zero)
        {
            return _outgoing.Reader.TryRead(out var ready) ? ready : null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            return await _outgoing.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Sends one update; a failure is logged once until sending works again. Returns whether it failed.</summary>
    private async Task<bool> SendAsync(BackupProgress progress, bool failing, CancellationToken cancellationToken)
    {
        try
        {
            var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await connection.ExecuteAsync("SELECT pg_notify(@Channel, @Payload)", new { Channel = ChannelName, Payload = ProgressMessage.Encode(progress, Origin) }).ConfigureAwait(false);
            }

            if (failing)
            {
                LogSendingAgain(logger);
            }

            return false;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // Other replicas catch up from the records at their next reconcile.
            if (!failing)
            {
                LogSendFailed(logger, progress.Cluster, progress.RecordId, ex.GetType().Name, ex.Message);
            }

            return true;
        }
    }

    private async Task ListenLoopAsync(CancellationToken cancellationToken)
    {
        var retry = FirstRetry;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(() => retry = FirstRetry, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Whatever ended it (a dropped connection, a reconcile that could not read the records), the listener
                // comes back: one that ended silently would leave this replica blind to the others' runs until restart.
                // The message only: the exception's text names the server at most, never the connection string.
                LogListenFailed(logger, ex.GetType().Name, ex.Message, retry.TotalSeconds);
                try
                {
                    await Task.Delay(retry, clock, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LastRetry.Ticks));
            }
        }
    }

    /// <summary>Listens until the connection fails (an exception) or the console stops.</summary>
    private async Task ListenAsync(Action connected, CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            _incoming.Clear();
            connection.Notification += (_, e) => _incoming.Enqueue(e.Payload);
            await connection.ExecuteAsync($"LISTEN {ChannelName}").ConfigureAwait(false);
            connected();
            LogListening(logger, ChannelName);

            // After LISTEN, so nothing that happens from here on falls between the records and the notifications.
            await ReconcileAsync(cancellationToken).ConfigureAwait(false);
            _listening.TrySetResult();
            while (true)
            {
                // A round trip on the listening connection now and then: one whose server went away fails here instead
                // of waiting forever. The records are reconciled by ReconcileLoopAsync.
                if (!await connection.WaitAsync(ReconcileInterval, cancellationToken).ConfigureAwait(false))
                {
                    await connection.ExecuteAsync("SELECT 1").ConfigureAwait(false);
                }

                while (_incoming.TryDequeue(out var payload))
                {
                    await ReceiveAsync(payload, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task ReceiveAsync(string payload, CancellationToken cancellationToken)
    {
        if (ProgressMessage.Decode(payload) is not { } message)
        {
            LogNotOurs(logger, ChannelName);
            return;
        }

        if (message.Origin == Origin)
        {
            return;
        }

        if (message.Phase != BackupPhase.Finished)
        {
            feed.Publish(message.ToProgress());
        }
        else if (await records.GetAsync(message.RecordId, cancellationToken).ConfigureAwait(false) is { } record)
        {
            // The record as stored, so pages show the true outcome (the message carries no final record).
            feed.Publish(BackupProgress.Of(record, message.At) with { Relayed = true });
        }
    }

    /// <summary>Brings the feed in line with the records: runs in flight elsewhere that it does not know, and ends it missed.</summary>
    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var running = await records.QueryAsync(new BackupQuery(Status: BackupStatus.Running, Take: 1000), cancellationToken).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        foreach (var record in running.Items)
        {
            // A run of this process is known to its feed before long; the feed refuses to go back on what it has.
            feed.PublishIfUnknown(new BackupProgress(record.Id, record.Cluster, record.Trigger, record.RequestedBy, record.StartedAt, BackupPhase.Starting, record.Member, 0, null, now) { Relayed = true });
        }

        var stillRunning = running.Items.Select(r => r.Id).ToHashSet();
        foreach (var shown in feed.LatestOfEach.Where(p => p is { Relayed: true, IsFinished: false } && !stillRunning.Contains(p.RecordId)))
        {
            if (await records.GetAsync(shown.RecordId, cancellationToken).ConfigureAwait(false) is { Status: not BackupStatus.Running } ended)
            {
                feed.Publish(BackupProgress.Of(ended, now) with { Relayed = true });
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Backup progress is shared with the other console replicas on the database's channel {Channel}")]
    private static partial void LogListening(ILogger logger, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for other replicas' backup progress failed ({Error}: {Message}); trying again in {Seconds} s")]
    private static partial void LogListenFailed(ILogger logger, string error, string message, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending the progress of backup {RecordId} of {Cluster} to the other replicas failed ({Error}: {Message}); they catch up from the records")]
    private static partial void LogSendFailed(ILogger logger, string cluster, long recordId, string error, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciling backup progress with the records failed ({Error}: {Message}); trying again at the next interval")]
    private static partial void LogReconcileFailed(ILogger logger, string error, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sending backup progress to the other replicas works again")]
    private static partial void LogSendingAgain(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A notification on {Channel} that is not a backup progress update was ignored")]
    private static partial void LogNotOurs(ILogger logger, string channel);
}
