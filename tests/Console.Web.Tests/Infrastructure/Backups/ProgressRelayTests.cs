using System.Collections.Concurrent;
using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Console.Web.Tests.Infrastructure.Backups;

/// <summary>Two console processes' feeds, each with its relay, on one real PostgreSQL database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ProgressRelayTests : IDisposable
{
    private readonly TestDatabase _data;
    private readonly List<ProgressRelay> _relays = [];
    private readonly LogSink _log = new();
    private readonly ILoggerFactory _logs;

    public ProgressRelayTests(PostgresServer postgres)
    {
        _data = TestDatabase.Create("relay", postgres);
        _logs = LoggerFactory.Create(b => b.AddProvider(_log).SetMinimumLevel(LogLevel.Trace));
    }

    private BackupRecordStore Records => new(_data.Database);

    /// <summary>A replica: its own feed and relay (and its own database object, as a process would have).</summary>
    private async Task<(BackupProgressFeed Feed, ConcurrentQueue<BackupProgress> Seen)> ReplicaAsync()
    {
        var database = new ConsoleDatabase(Microsoft.Extensions.Options.Options.Create(_data.Settings));
        var feed = new BackupProgressFeed(NullLogger<BackupProgressFeed>.Instance);
        var seen = new ConcurrentQueue<BackupProgress>();
        feed.Subscribe(seen.Enqueue);
        var relay = new ProgressRelay(database, new BackupRecordStore(database), feed, TimeProvider.System, new Logger<ProgressRelay>(_logs));
        _relays.Add(relay);
        await relay.StartAsync(CancellationToken.None);
        await relay.Listening.WaitAsync(TimeSpan.FromSeconds(30));
        return (feed, seen);
    }

    private async Task<BackupProgress> StartRunAsync(string cluster)
    {
        var started = DateTimeOffset.UtcNow;
        var id = await Records.InsertRunningAsync(new BackupRecord { Cluster = cluster, Trigger = BackupTrigger.Manual, RequestedBy = "alice", StartedAt = started }, CancellationToken.None);
        return new BackupProgress(id, cluster, BackupTrigger.Manual, "alice", started, BackupPhase.Starting, null, 0, null, started);
    }

    private async Task<BackupRecord> FinishAsync(BackupProgress run)
    {
        var record = (await Records.GetAsync(run.RecordId, CancellationToken.None))! with
        {
            Status = BackupStatus.Succeeded,
            FinishedAt = DateTimeOffset.UtcNow,
            Member = "m1",
            FileName = $"{run.Cluster}-relay.db",
            SizeBytes = 4000,
            Sha256 = new string('a', 64),
        };
        await Records.UpdateAsync(record, CancellationToken.None);
        return record;
    }

    [Fact]
    public async Task Updates_of_one_replica_reach_the_other_in_order_throttled_not_echoed_and_end_with_the_stored_record()
    {
        var (a, seenOnA) = await ReplicaAsync();
        var (b, seenOnB) = await ReplicaAsync();
        var run = await StartRunAsync("prod");

        a.Publish(run);
        a.Publish(run with { Phase = BackupPhase.ChoosingMember, At = DateTimeOffset.UtcNow });
        for (var bytes = 100; bytes <= 4000; bytes += 100)
        {
            a.Publish(run with { Phase = BackupPhase.Streaming, Member = "m1", BytesReceived = bytes, TotalBytes = 4000, At = DateTimeOffset.UtcNow });
        }

        // The last update of a burst is held back, not lost: it arrives once its turn comes.
        await Eventually.ValueAsync(() => Task.FromResult(b.Latest("prod")), p => p is { Phase: BackupPhase.Streaming, BytesReceived: 4000 }, TimeSpan.FromSeconds(30));
        a.Publish(run with { Phase = BackupPhase.Finalizing, Member = "m1", BytesReceived = 4000, TotalBytes = 4000, At = DateTimeOffset.UtcNow });
        var stored = await FinishAsync(run);

        // What the runner publishes at the end carries its own copy of the record: B must show the stored one.
        a.Publish(run with { Phase = BackupPhase.Finished, At = DateTimeOffset.UtcNow, Final = stored with { Error = "the publisher's copy" } });
        var final = await Eventually.ValueAsync(() => Task.FromResult(b.Latest("prod")), p => p is { IsFinished: true }, TimeSpan.FromSeconds(30));

        Assert.Equal(stored, final!.Final);
        Assert.True(final.Relayed);
        var onB = seenOnB.Where(p => p.RecordId == run.RecordId).ToList();
        Assert.All(onB, p => Assert.True(p.Relayed));
        Assert.Equal([BackupPhase.Starting, BackupPhase.ChoosingMember, BackupPhase.Streaming, BackupPhase.Finalizing, BackupPhase.Finished], onB.Select(p => p.Phase).Distinct());
        Assert.Equal(onB.Select(p => p.Phase).Order(), onB.Select(p => p.Phase));
        Assert.Equal(onB.Select(p => p.BytesReceived).Order(), onB.Select(p => p.BytesReceived));
        var streaming = onB.Count(p => p.Phase == BackupPhase.Streaming);
        Assert.InRange(streaming, 1, 10); // 40 published in a burst

        // B's own run reaches A; by then A has long had its own notifications back, and dropped them.
        var other = await StartRunAsync("staging");
        b.Publish(other);
        await Eventually.ValueAsync(() => Task.FromResult(a.Latest("staging")), p => p is not null, TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(seenOnA, p => p.Relayed && p.RecordId == run.RecordId);
        Assert.DoesNotContain(seenOnB, p => p.Relayed && p.RecordId == other.RecordId);
        Assert.Equal(2 + 40 + 2, seenOnA.Count(p => p.RecordId == run.RecordId)); // A's own updates, once each
        Assert.False(a.Latest("prod")!.Relayed);
    }

    [Fact]
    public async Task A_replica_that_missed_the_notifications_shows_a_run_in_flight_elsewhere_and_then_its_end_from_the_records()
    {
        var run = await StartRunAsync("prod");

        // Started after the run began, and nobody notifies the end: only the records say what happened.
        var (b, _) = await ReplicaAsync();
        var shown = b.Latest("prod");
        Assert.Equal((run.RecordId, BackupPhase.Starting, true), (shown?.RecordId, shown?.Phase, shown?.Relayed));

        var stored = await FinishAsync(run);
        var ended = await Eventually.ValueAsync(() => Task.FromResult(b.Latest("prod")), p => p is { IsFinished: true }, TimeSpan.FromSeconds(90)); // a reconcile every 10 s; generous for a loaded machine
        Assert.Equal(stored, ended!.Final);
    }

    [Fact]
    public async Task A_listener_whose_connection_is_cut_connects_again_and_hears_the_others_again_without_logging_the_connection_string()
    {
        var (b, _) = await ReplicaAsync();
        await using (var admin = new NpgsqlConnection(_data.Settings.Database.ConnectionString))
        {
            // Without pooling, the listener's is the only connection that stays open.
            var cut = await admin.ExecuteScalarAsync<int>(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
            Assert.True(cut >= 1, "the listener has a connection to cut");
        }

        // Listening again: a notification sent now (by another replica, as it would be) reaches the feed.
        var run = await StartRunAsync("prod");
        await Eventually.ValueAsync(
            async () =>
            {
                await using var other = new NpgsqlConnection(_data.Settings.Database.ConnectionString);
                await other.ExecuteAsync("SELECT pg_notify(@Channel, @Payload)", new { Channel = ProgressRelay.ChannelName, Payload = ProgressMessage.Encode(run with { Phase = BackupPhase.Streaming, BytesReceived = 7 }, "another-replica") });
                return b.Latest("prod");
            },
            p => p is { Phase: BackupPhase.Streaming, BytesReceived: 7 },
            TimeSpan.FromSeconds(60));

        Assert.Contains(_log.Lines, l => l.Contains("Listening for other replicas' backup progress failed", StringComparison.Ordinal));
        Assert.Equal(2, _log.Lines.Count(l => l.Contains("shared with the other console replicas", StringComparison.Ordinal)));
        Assert.DoesNotContain(_data.Settings.Database.ConnectionString!, _log.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Host=", _log.Text, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (var relay in _relays)
        {
            relay.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
            relay.Dispose();
        }

        _logs.Dispose();
        _data.Dispose();
    }
}
