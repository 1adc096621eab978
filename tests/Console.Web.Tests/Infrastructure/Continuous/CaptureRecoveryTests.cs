using Console.Domain.Backups;
using Console.Domain.Configuration;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Sandbox;
using Console.Web.Tests.Fixtures;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Console.Web.Tests.Infrastructure.Continuous;

/// <summary>The watcher across restarts: kill -9 mid-stream resumes without a gap; a compaction while it was away is a visible break and a fresh snapshot.</summary>
public sealed class CaptureRecoveryTests
{
    [Fact]
    public async Task A_compaction_past_the_watcher_while_the_console_was_stopped_is_a_visible_break_and_a_fresh_full_snapshot()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var data = new TestDirectory("capture-compaction");
        using var writer = new EtcdWriter(etcd.Endpoints[0]);
        var settings = CaptureOracle.Settings(etcd);
        long firstBase, before;
        await using (var app = ConsoleApp.Start(settings, data.Path))
        {
            firstBase = await CaptureOracle.BaseRevisionAsync(app.Services);
            before = await writer.MixedHistoryAsync("/c1", rounds: 2);
            await CaptureOracle.DurableAtLeastAsync(app.Services, before);
        }

        // The console is stopped: history moves on and is compacted right at the head, past what the watcher read.
        await writer.PutAsync("/c1/while-away", "lost to the compaction");
        var compacted = await writer.PutAsync("/c1/while-away", "overwritten");
        etcd.Etcdctl("compaction", compacted.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var logs = new LogSink();
        await using (var app = ConsoleApp.Start(settings, data.Path, logs))
        {
            var history = app.Services.GetRequiredService<IDeltaHistory>();
            var window = await Eventually.ValueAsync(
                () => history.WindowAsync(CaptureOracle.Name, CancellationToken.None),
                w => w.Breaks.Count == 1 && w.Breaks[0].ResumedAtRevision is not null && w.Spans.Count == 2,
                TimeSpan.FromSeconds(120));
            var gap = window.Breaks[0];
            Assert.Equal(before, gap.AfterRevision);
            Assert.Contains($"compacted its history up to revision {compacted}", gap.Reason, StringComparison.Ordinal);
            Assert.True(gap.ResumedAtRevision >= compacted);
            Assert.Equal((firstBase, before), (window.Spans[0].FromRevision, window.Spans[0].ToRevision));
            Assert.Equal(gap.ResumedAtRevision, window.Spans[1].FromRevision);
            Assert.Contains(logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("has a break", StringComparison.Ordinal));

            // The fresh snapshot is a recorded backup of its own trigger, at the revision the new chain starts from.
            var records = await app.Services.GetRequiredService<BackupRecordStore>().QueryAsync(new BackupQuery(CaptureOracle.Cluster), CancellationToken.None);
            var fresh = records.Items.Where(r => r.Trigger == BackupTrigger.Continuous && r.Status == BackupStatus.Succeeded).MaxBy(r => r.Revision);
            Assert.Equal(gap.ResumedAtRevision, fresh!.Revision);
            Assert.Equal(2, records.Items.Count(r => r.Trigger == BackupTrigger.Continuous));

            // And the new chain is exact from there.
            var head = await writer.MixedHistoryAsync("/c2", rounds: 2);
            await CaptureOracle.DurableAtLeastAsync(app.Services, head);
            var segments = await CaptureOracle.ReadAllAsync(app.Services, gap.ResumedAtRevision!.Value, head);
            var seen = CaptureOracle.ReplayAndCompare(etcd, segments, gap.ResumedAtRevision.Value, head);
            Assert.Equal(head, seen[^1]);
        }
    }

    [Fact]
    public async Task The_console_killed_with_kill_9_mid_stream_resumes_from_its_last_durable_revision_without_a_gap()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var data = new TestDirectory("capture-kill");
        using var writer = new EtcdWriter(etcd.Endpoints[0]);
        var environment = TestTokens.Settings("__").Concat(CaptureOracle.Settings(etcd)).ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value!);
        environment["Console__DataDir"] = data.Path;
        var ledger = new DeltaLedger(new ConsoleDatabase(Options.Create(new ConsoleSettings { DataDir = data.Path })));

        using var writing = new CancellationTokenSource();
        long written = 0;
        var writes = Task.Run(async () =>
        {
            for (var i = 0; !writing.IsCancellationRequested; i++)
            {
                Interlocked.Exchange(ref written, await writer.PutAsync($"/kill/k{i % 50}", $"v{i}"));
                await Task.Delay(20);
            }
        });

        try
        {
            using (var first = await StartAsync(environment))
            {
                // Mid-stream: some segments are durable and writes go on while the process dies.
                var durable = await DurableAsync(ledger, Interlocked.Read(ref written) + 20, first);
                Assert.NotNull(durable);
                first.Kill();
                await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }

            var afterKill = Interlocked.Read(ref written) + 20;
            using (var second = await StartAsync(environment))
            {
                await DurableAsync(ledger, afterKill, second);
                await writing.CancelAsync();
                await writes;
                var head = await writer.HeadAsync();
                await DurableAsync(ledger, head, second);
                second.Kill();
                await second.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }
        }
        finally
        {
            await writing.CancelAsync();
            await writes.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        // Read back in a console on the same data: one unbroken span, and exactly the source's history.
        var final = await writer.HeadAsync();
        // (With the processes' key-encryption key: the data dir holds their key ring.)
        await using var app = ConsoleApp.Start(TestTokens.Settings().Concat(CaptureOracle.Settings(etcd)).ToDictionary(), data.Path);
        var window = await app.Services.GetRequiredService<IDeltaHistory>().WindowAsync(CaptureOracle.Name, CancellationToken.None);
        Assert.Empty(window.Breaks);
        var span = Assert.Single(window.Spans);
        Assert.True(span.ToRevision >= final, $"the span ends at {span.ToRevision}, the source is at {final}");
        var segments = await CaptureOracle.ReadAllAsync(app.Services, span.FromRevision, final);
        var seen = CaptureOracle.ReplayAndCompare(etcd, segments, span.FromRevision, final);
        Assert.Equal(Enumerable.Range((int)span.FromRevision + 1, (int)(final - span.FromRevision)).Select(r => (long)r), seen.Where(r => r <= final));
    }

    [Fact]
    public async Task When_the_watched_member_goes_down_the_watch_resumes_on_another_member_without_a_gap()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(size: 3);
        await using var app = ConsoleApp.Start(CaptureOracle.Settings(etcd));
        var baseRevision = await CaptureOracle.BaseRevisionAsync(app.Services);
        var ledger = app.Services.GetRequiredService<DeltaLedger>();
        var watching = await Eventually.ValueAsync(() => ledger.StateAsync(CaptureOracle.Cluster, CancellationToken.None), s => s?.Watcher?.Contains(" via m", StringComparison.Ordinal) == true, TimeSpan.FromSeconds(60));
        var watcher = watching!.Watcher!;
        var member = watcher[(watcher.LastIndexOf(" via ", StringComparison.Ordinal) + 5)..];
        var victim = etcd.Members.Single(m => m.Layout.Name == member);
        var survivor = etcd.Members.First(m => m != victim);
        using var writer = new EtcdWriter(survivor.Layout.ClientUrl);
        await CaptureOracle.DurableAtLeastAsync(app.Services, await writer.PutAsync("/down/before", "1"));

        Assert.True(await victim.StopAsync(TimeSpan.FromSeconds(10)));
        var head = await writer.MixedHistoryAsync("/down", rounds: 3);
        var resumed = await CaptureOracle.DurableAtLeastAsync(app.Services, head, TimeSpan.FromSeconds(120));

        Assert.DoesNotContain($" via {member}", resumed!.Watcher, StringComparison.Ordinal);
        var segments = await CaptureOracle.ReadAllAsync(app.Services, baseRevision, head);
        var seen = CaptureOracle.ReplayAndCompare(etcd, segments, baseRevision, head);
        Assert.Equal(Enumerable.Range((int)baseRevision + 1, (int)(head - baseRevision)).Select(r => (long)r), seen);
        Assert.Empty((await app.Services.GetRequiredService<IDeltaHistory>().WindowAsync(CaptureOracle.Name, CancellationToken.None)).Breaks);
    }

    [Fact]
    public async Task On_shutdown_the_revisions_received_but_not_yet_flushed_are_written_before_the_console_stops()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var data = new TestDirectory("capture-shutdown");
        using var writer = new EtcdWriter(etcd.Endpoints[0]);
        using var logs = new LogSink();
        long head;
        await using (var app = ConsoleApp.Start(CaptureOracle.Settings(etcd, flush: "10s"), data.Path, logs))
        {
            await CaptureOracle.BaseRevisionAsync(app.Services);
            head = await writer.TxnAsync([("/shutdown/a", "1"), ("/shutdown/b", "2")]);

            // Received (buffered), while the next flush is up to 10 s away: stop now.
            await Eventually.ValueAsync(() => Task.FromResult(logs.Lines.Any(l => l.Contains($"buffered up to revision {head} ", StringComparison.Ordinal))), seen => seen, TimeSpan.FromSeconds(60));
        }

        var state = await new DeltaLedger(new ConsoleDatabase(Options.Create(new ConsoleSettings { DataDir = data.Path }))).StateAsync(CaptureOracle.Cluster, CancellationToken.None);
        Assert.True(head == state!.DurableRevision, string.Join('\n', logs.Lines.Where(l => l.Contains("Continuous", StringComparison.Ordinal) && !l.StartsWith("Trace", StringComparison.Ordinal))));
    }

    /// <summary>Starts the console and waits until it serves /healthz: its database exists and is migrated by then.</summary>
    private static async Task<ConsoleProcess> StartAsync(Dictionary<string, string> environment)
    {
        var port = FreePorts.Pick(1)[0];
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        var process = ConsoleProcess.Start(environment);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            await Eventually.ValueAsync(
                async () =>
                {
                    try
                    {
                        return (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).IsSuccessStatusCode;
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        return false;
                    }
                },
                up => up,
                TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException ex)
        {
            var output = $"{process.Output}\n{process.Error}";
            process.Dispose();
            throw new TimeoutException($"the console did not start: {output}", ex);
        }

        return process;
    }

    /// <summary>The state once its durable revision reaches <paramref name="revision"/> (the schema may not exist yet at first).</summary>
    private static async Task<ContinuousState?> DurableAsync(DeltaLedger ledger, long revision, ConsoleProcess process)
    {
        try
        {
            return await Eventually.ValueAsync(
                async () =>
                {
                    try
                    {
                        return await ledger.StateAsync(CaptureOracle.Cluster, CancellationToken.None);
                    }
                    catch (SqliteException)
                    {
                        return null;
                    }
                },
                s => s?.DurableRevision >= revision,
                TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\nconsole output:\n{process.Output}\n{process.Error}", ex);
        }
    }
}
