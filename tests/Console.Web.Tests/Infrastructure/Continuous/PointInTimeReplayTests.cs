using System.Globalization;
using System.Text.Json;
using Console.Domain.Backups;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Console.Web.Tests.Infrastructure.Continuous;

/// <summary>
/// A never-compacted source etcd written to for a minute by <see cref="SourceWriter"/>, with the console (in process)
/// capturing it through continuous backup, shared by the replay tests. The console starts while the writer runs, so
/// its base snapshot is taken mid-write and the watch starts at the snapshot's own revision: the first segment
/// overlaps the base (gardener#1044) and the replay must skip that overlap.
/// </summary>
public sealed class ReplaySource : IAsyncLifetime
{
    public const int Seed = 1616;
    private TestEtcdCluster? _etcd;
    private ConsoleApp? _app;

    public TestEtcdCluster Etcd => _etcd!;

    public ConsoleApp App => _app!;

    public string BaseSnapshot { get; private set; } = "";

    /// <summary>Where the window's span starts: the revision the console recorded for its base snapshot.</summary>
    public long BaseRevision { get; private set; }

    /// <summary>The revision read from the base snapshot itself (etcdctl snapshot status): taken mid-write, it may lie past <see cref="BaseRevision"/>.</summary>
    public long RealBaseRevision { get; private set; }

    /// <summary>The writer's last revision.</summary>
    public long WriterRevision { get; private set; }

    /// <summary>The source's head once every short lease has expired: nothing writes past it, and it is durable.</summary>
    public long LastRevision { get; private set; }

    public long FirstSegmentRevision { get; private set; }

    public async Task InitializeAsync()
    {
        _etcd = await TestEtcdCluster.StartAsync(name: "pitr-source");
        using var client = new EtcdClusterClient(Etcd.Spec(), TimeSpan.FromSeconds(30));
        var endpoint = Etcd.Endpoints[0];
        var start = await client.PutAsync(endpoint, "/app/seed", "0", CancellationToken.None);
        using var run = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var writer = SourceWriter.RunAsync(client, endpoint, TimeSpan.FromSeconds(60), Seed, run.Token);
        try
        {
            await Eventually.ValueAsync(() => client.StatusAsync(endpoint, run.Token), s => s.Revision > start + 300, TimeSpan.FromSeconds(60));
            _app = ConsoleApp.Start(CaptureOracle.Settings(Etcd));
            BaseRevision = await CaptureOracle.BaseRevisionAsync(App.Services);
        }
        finally
        {
            WriterRevision = await writer;
        }

        // The short leases granted last expire after the writer stops, each deletion a revision of its own: wait for
        // them so the history is final, then for the capture to make all of it durable.
        await Eventually.ValueAsync(() => Task.FromResult(Etcd.Etcdctl("get", "/lease/", "--prefix", "--keys-only").Trim()), keys => keys.Length == 0, TimeSpan.FromSeconds(60));
        LastRevision = (await client.StatusAsync(endpoint, run.Token)).Revision;
        await CaptureOracle.DurableAtLeastAsync(App.Services, LastRevision, TimeSpan.FromMinutes(3));
        BaseSnapshot = await CapturedBy.BaseSnapshotAsync(App.Services);
        using (var status = JsonDocument.Parse(Etcd.Etcdctl("snapshot", "status", BaseSnapshot, "-w", "json")))
        {
            RealBaseRevision = status.RootElement.GetProperty("revision").GetInt64();
        }

        var stored = await App.Services.GetRequiredService<LocalSnapshotStore>().ListSegmentsAsync(CaptureOracle.Name, run.Token);
        FirstSegmentRevision = stored.Min(s => s.Name.FirstRevision);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }
}

/// <summary>The oracle: targets built by the console's own builder from what its real capture stored.</summary>
public sealed class PointInTimeReplayTests(ReplaySource source) : IClassFixture<ReplaySource>
{
    private static ReplayOptions Options(string scratch) =>
        new(EtcdBinary.Find("etcd")!, "etcdctl", scratch, TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(120));

    private IAsyncEnumerable<DeltaSegment> Segments(long through) =>
        source.App.Services.GetRequiredService<IDeltaHistory>().ReadAsync(CaptureOracle.Name, source.BaseRevision, through, null, CancellationToken.None);

    [Fact]
    public async Task A_rebuilt_revision_restores_to_exactly_the_sources_keys_values_and_revisions_at_that_revision()
    {
        Assert.True(source.BaseRevision <= source.RealBaseRevision, $"the base was recorded at {source.BaseRevision} but is really at {source.RealBaseRevision}");
        Assert.True(source.FirstSegmentRevision > 0 && source.FirstSegmentRevision <= source.BaseRevision, $"the capture must start at or before the base ({source.BaseRevision}), not at {source.FirstSegmentRevision}");
        Assert.True(source.WriterRevision - source.BaseRevision > 1000, $"the writer made only {source.WriterRevision - source.BaseRevision} revisions after the base");
        var span = await CapturedBy.SpanAsync(source.App.Services);
        Assert.Equal((source.BaseRevision, source.LastRevision), (span.FromRevision, span.ToRevision));
        var random = new Random(ReplaySource.Seed);
        var targets = new[]
        {
            random.NextInt64(source.RealBaseRevision + 1, source.WriterRevision),
            random.NextInt64(source.RealBaseRevision + 1, source.WriterRevision),
            source.LastRevision,
        };
        var builder = source.App.Services.GetRequiredService<IPointInTimeBuilder>();
        var scratchDir = ((PointInTimeBuilder)builder).ScratchDir;
        using var scratch = new TestDirectory("pitr-oracle");
        foreach (var target in targets)
        {
            var output = scratch.Combine($"rev{target}.db");
            var outcome = await builder.BuildAsync(CaptureOracle.Name, PointInTimeTarget.AtRevision(target), output, null, null, CancellationToken.None);

            Assert.Equal(target, outcome.Revision);
            Assert.Equal(source.RealBaseRevision, outcome.BaseRevision);
            Assert.Equal(target - source.RealBaseRevision, outcome.RevisionsReplayed);
            Assert.Equal(outcome.Sha256, await SnapshotVerifier.VerifyFileAsync(output, CancellationToken.None));
            await using var restored = await ReferenceTools.RestoreAndStartAsync(output, scratch.Combine($"check-{target}"));
            var expected = ReferenceTools.Dump(source.Etcd.Endpoints[0], target);
            var actual = ReferenceTools.Dump(restored.Layout.ClientUrl);
            Assert.Equal(target, actual.Revision);
            Assert.True(expected.Kvs == actual.Kvs, $"revision {target} (seed {ReplaySource.Seed}): the rebuilt keys differ from the source's");
            Assert.Equal(outcome.KeyCount, JsonDocument.Parse(actual.Kvs).RootElement.GetArrayLength());
            Assert.Empty(Directory.GetFileSystemEntries(scratchDir));
        }
    }

    [Fact]
    public async Task A_target_past_the_captured_history_or_below_the_base_is_refused_and_nothing_is_written()
    {
        using var scratch = new TestDirectory("pitr-refused");
        var output = scratch.Combine("out.db");

        // The builder refuses a target outside the window before it starts anything.
        var builder = source.App.Services.GetRequiredService<IPointInTimeBuilder>();
        var outside = await Assert.ThrowsAsync<PointInTimeException>(() => builder.BuildAsync(CaptureOracle.Name, PointInTimeTarget.AtRevision(source.LastRevision + 5), output, null, null, CancellationToken.None));
        Assert.Contains($"any revision from {source.BaseRevision} to {source.LastRevision}", outside.Message, StringComparison.Ordinal);

        // The replay itself refuses a history that ends short of the target, and a base past it.
        var replay = new PointInTimeReplay(Options(scratch.Path), NullLogger.Instance);
        var beyond = await Assert.ThrowsAsync<PointInTimeException>(() => replay.RunAsync(source.BaseSnapshot, Segments(source.LastRevision), source.LastRevision + 5, output, null, CancellationToken.None));
        var below = await Assert.ThrowsAsync<PointInTimeException>(() => replay.RunAsync(source.BaseSnapshot, Segments(source.LastRevision), source.RealBaseRevision - 10, output, null, CancellationToken.None));

        Assert.True(beyond.Message.Contains($"ends at revision {source.LastRevision}, before the target {source.LastRevision + 5}", StringComparison.Ordinal), beyond.ToString());
        Assert.Contains($"really at revision {source.RealBaseRevision}, past the target", below.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(scratch.Path));
    }
}

public sealed class PointInTimeLeaseTests
{
    /// <summary>Reports progress synchronously (Progress&lt;T&gt; would post it), so a test can hold the replay.</summary>
    private sealed class HoldingProgress(Func<PointInTimeProgress, Task> onReport) : IProgress<PointInTimeProgress>
    {
        public void Report(PointInTimeProgress value) => onReport(value).GetAwaiter().GetResult();
    }

    [Fact]
    public async Task A_key_on_a_five_second_lease_in_the_base_survives_a_replay_longer_than_five_seconds_without_revision_shifts()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(name: "pitr-lease");
        using var files = new TestDirectory("pitr-lease-files");
        using var client = new EtcdClusterClient(etcd.Spec(), TimeSpan.FromSeconds(30));
        var endpoint = etcd.Endpoints[0];
        const long lease = 0x5005;
        await client.LeaseGrantAsync(endpoint, lease, 5, CancellationToken.None);
        await client.ApplyRevisionAsync(endpoint, [new DeltaEvent(DeltaEventKind.Put, "/leased"u8.ToArray(), "held"u8.ToArray(), 0, 0, 0, lease)], CancellationToken.None);

        // The source keeps its lease alive while it is snapshotted and written to, so it never expires there.
        using var stopKeeping = new CancellationTokenSource();
        var keeping = Task.Run(async () =>
        {
            await using var keepAlive = await client.KeepAliveAsync(endpoint, stopKeeping.Token);
            while (!stopKeeping.IsCancellationRequested)
            {
                await keepAlive.RenewAsync([lease], stopKeeping.Token);
                await Task.Delay(500, stopKeeping.Token);
            }
        });
        try
        {
            // The console's own base snapshot holds the leased key; the writes after it are made durable in four
            // bursts, so the replay has several segments to hold between.
            await using var app = ConsoleApp.Start(CaptureOracle.Settings(etcd));
            var from = await CaptureOracle.BaseRevisionAsync(app.Services);
            var last = from;
            for (var burst = 0; burst < 4; burst++)
            {
                for (var i = 0; i < 10; i++)
                {
                    last = await client.PutAsync(endpoint, $"/after/{i % 7}", $"{burst}-{i}", CancellationToken.None);
                }

                await CaptureOracle.DurableAtLeastAsync(app.Services, last);
            }

            var baseSnapshot = await CapturedBy.BaseSnapshotAsync(app.Services);
            var segments = new List<DeltaSegment>();
            await foreach (var segment in app.Services.GetRequiredService<IDeltaHistory>().ReadAsync(CaptureOracle.Name, from, last, null, CancellationToken.None))
            {
                segments.Add(segment);
            }

            Assert.True(segments.Count >= 4, $"the capture made {segments.Count} segments of the four bursts");

            // Hold the replay after its first segment until well past the lease's 5 s: without keep-alives the lease
            // would expire in the replay etcd, its key's deletion would take a revision, and every later one would shift.
            var replayStarted = System.Diagnostics.Stopwatch.StartNew();
            var held = false;
            var progress = new HoldingProgress(async p =>
            {
                if (p.Phase == "replaying" && p.Revision > from && !held)
                {
                    held = true;
                    replayStarted.Restart();
                    await Eventually.ValueAsync(() => Task.FromResult(replayStarted.Elapsed), e => e > TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(30));
                }
            });
            var output = files.Combine("out.db");
            var options = new ReplayOptions(EtcdBinary.Find("etcd")!, "etcdctl", files.Path, TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(120));
            var outcome = await new PointInTimeReplay(options, NullLogger.Instance).RunAsync(baseSnapshot, segments.ToAsyncEnumerable(), last, output, progress, CancellationToken.None);

            Assert.True(held);
            Assert.Equal(last, outcome.Revision);
            await using var restored = await ReferenceTools.RestoreAndStartAsync(output, files.Combine("check"));
            var expected = ReferenceTools.Dump(endpoint, last);
            var actual = ReferenceTools.Dump(restored.Layout.ClientUrl);
            Assert.Equal(last, actual.Revision);
            Assert.Equal(expected.Kvs, actual.Kvs);
            Assert.Contains("\"lease\":" + lease.ToString(CultureInfo.InvariantCulture), actual.Kvs, StringComparison.Ordinal);
        }
        finally
        {
            await stopKeeping.CancelAsync();
            await keeping.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
