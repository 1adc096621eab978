using System.Globalization;
using System.Text.Json;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;

namespace Console.Web.Tests.Infrastructure.Continuous;

/// <summary>
/// A never-compacted source etcd written to for a minute by <see cref="SourceWriter"/>, captured from before its base
/// snapshot was taken (so the first segments overlap the base), shared by the replay tests.
/// </summary>
public sealed class ReplaySource : IAsyncLifetime
{
    public const int Seed = 1616;
    private TestEtcdCluster? _etcd;

    public TestEtcdCluster Etcd => _etcd!;

    public TestDirectory Files { get; } = new("pitr-replay");

    internal CapturedHistory History { get; } = new(ClusterName.Parse("source"));

    public string BaseSnapshot => Files.Combine("base.db");

    public long BaseRevision { get; private set; }

    public long LastRevision { get; private set; }

    public async Task InitializeAsync()
    {
        _etcd = await TestEtcdCluster.StartAsync(name: "pitr-source");
        using var client = new EtcdClusterClient(Etcd.Spec(), TimeSpan.FromSeconds(30));
        var endpoint = Etcd.Endpoints[0];
        var start = await client.PutAsync(endpoint, "/app/seed", "0", CancellationToken.None);
        using var run = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        long stop = 0;
        var capture = History.CaptureAsync(client, endpoint, start, () => Interlocked.Read(ref stop) is var s && s > 0 ? s : null, 400, run.Token);
        var writer = SourceWriter.RunAsync(client, endpoint, TimeSpan.FromSeconds(60), Seed, run.Token);

        // The base is taken while the writer runs, after the capture started: its real revision lies past the first
        // captured revisions, as in gardener#1044, and the replay must skip those.
        await Eventually.ValueAsync(() => client.StatusAsync(endpoint, run.Token), s => s.Revision > start + 300, TimeSpan.FromSeconds(60));
        Etcd.Etcdctl("snapshot", "save", BaseSnapshot);
        using (var status = JsonDocument.Parse(Etcd.Etcdctl("snapshot", "status", BaseSnapshot, "-w", "json")))
        {
            BaseRevision = status.RootElement.GetProperty("revision").GetInt64();
        }

        LastRevision = await writer;
        Interlocked.Exchange(ref stop, LastRevision);
        await capture;
    }

    public async Task DisposeAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }

        Files.Dispose();
    }
}

public sealed class PointInTimeReplayTests(ReplaySource source) : IClassFixture<ReplaySource>
{
    private static ReplayOptions Options(string scratch) =>
        new(EtcdBinary.Find("etcd")!, "etcdctl", scratch, TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(120));

    [Fact]
    public async Task A_rebuilt_revision_restores_to_exactly_the_sources_keys_values_and_revisions_at_that_revision()
    {
        Assert.True(source.History.Segments[0].First < source.BaseRevision, "the capture must start before the base so the replay has overlap to skip");
        Assert.True(source.LastRevision - source.BaseRevision > 1000, $"the writer made only {source.LastRevision - source.BaseRevision} revisions after the base");
        var random = new Random(ReplaySource.Seed);
        var targets = new[]
        {
            random.NextInt64(source.BaseRevision + 1, source.LastRevision),
            random.NextInt64(source.BaseRevision + 1, source.LastRevision),
            source.LastRevision,
        };
        using var scratch = new TestDirectory("pitr-oracle");
        foreach (var target in targets)
        {
            var output = scratch.Combine($"rev{target}.db");
            var outcome = await new PointInTimeReplay(Options(scratch.Path), NullLogger.Instance)
                .RunAsync(source.BaseSnapshot, source.History.ReadAsync(source.History.Cluster, 0, target, null, CancellationToken.None), target, output, null, CancellationToken.None);

            Assert.Equal(target, outcome.Revision);
            Assert.Equal(source.BaseRevision, outcome.BaseRevision);
            Assert.Equal(target - source.BaseRevision, outcome.RevisionsReplayed);
            Assert.Equal(outcome.Sha256, await SnapshotVerifier.VerifyFileAsync(output, CancellationToken.None));
            await using var restored = await ReferenceTools.RestoreAndStartAsync(output, scratch.Combine($"check-{target}"));
            var expected = ReferenceTools.Dump(source.Etcd.Endpoints[0], target);
            var actual = ReferenceTools.Dump(restored.Layout.ClientUrl);
            Assert.Equal(target, actual.Revision);
            Assert.True(expected.Kvs == actual.Kvs, $"revision {target} (seed {ReplaySource.Seed}): the rebuilt keys differ from the source's");
            Assert.Equal(outcome.KeyCount, JsonDocument.Parse(actual.Kvs).RootElement.GetArrayLength());
            Assert.Empty(Directory.GetDirectories(scratch.Path, "replay-*"));
        }
    }

    [Fact]
    public async Task A_target_past_the_captured_history_or_below_the_base_is_refused_and_nothing_is_written()
    {
        using var scratch = new TestDirectory("pitr-refused");
        var output = scratch.Combine("out.db");
        var replay = new PointInTimeReplay(Options(scratch.Path), NullLogger.Instance);

        var beyond = await Assert.ThrowsAsync<PointInTimeException>(() => replay.RunAsync(source.BaseSnapshot, source.History.ReadAsync(source.History.Cluster, 0, long.MaxValue, null, CancellationToken.None), source.LastRevision + 5, output, null, CancellationToken.None));
        var below = await Assert.ThrowsAsync<PointInTimeException>(() => replay.RunAsync(source.BaseSnapshot, source.History.ReadAsync(source.History.Cluster, 0, long.MaxValue, null, CancellationToken.None), source.BaseRevision - 10, output, null, CancellationToken.None));

        Assert.True(beyond.Message.Contains($"ends at revision {source.LastRevision}, before the target {source.LastRevision + 5}", StringComparison.Ordinal), beyond.ToString());
        Assert.Contains($"really at revision {source.BaseRevision}, past the target", below.Message, StringComparison.Ordinal);
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
            var baseSnapshot = files.Combine("base.db");
            etcd.Etcdctl("snapshot", "save", baseSnapshot);
            var history = new CapturedHistory(ClusterName.Parse("lease"));
            var from = await client.PutAsync(endpoint, "/after/0", "0", CancellationToken.None);
            var last = from;
            for (var i = 1; i < 40; i++)
            {
                last = await client.PutAsync(endpoint, $"/after/{i % 7}", i.ToString(CultureInfo.InvariantCulture), CancellationToken.None);
            }

            await history.CaptureAsync(client, endpoint, from, () => last, 10, CancellationToken.None);
            Assert.Equal(4, history.Segments.Count);

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
            var outcome = await new PointInTimeReplay(options, NullLogger.Instance).RunAsync(baseSnapshot, history.ReadAsync(history.Cluster, 0, last, null, CancellationToken.None), last, output, progress, CancellationToken.None);

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
