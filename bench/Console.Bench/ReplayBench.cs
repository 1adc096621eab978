using System.Diagnostics;
using System.Globalization;
using System.Text;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Microsoft.Extensions.Logging.Abstractions;

namespace Console.Bench;

/// <summary>
/// Point-in-time replay speed (issue 16): a source etcd gets N revisions of mixed writes (puts, overwrites, deletes,
/// 2-4 operation transactions, keys on leases) one sequential transaction at a time through the product's client
/// (the reference line: how fast this etcd on this disk takes the same writes from one client), a whole-keyspace watch
/// from the base captures them into delta segments of 1,000 revisions, and the product's <see cref="PointInTimeReplay"/>
/// rebuilds the last revision from the base snapshot. Printed: the replay loop alone (first to last transaction) and
/// the whole build (restore, start, replay, snapshot, re-verify) in revisions/s, with CPU-seconds of this process and
/// of the etcd processes it started and reaped.
/// </summary>
internal static class ReplayBench
{
    public static async Task<int> RunAsync(string etcdBinary, int revisions, int runs, string? scratchParent, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("replay-bench-").FullName;
        var ports = FreePorts.Pick(2);
        var layout = new EtcdMemberLayout("source", ports[0], ports[1], Path.Combine(root, "source"));
        var source = EtcdProcess.Start(etcdBinary, layout, EtcdMemberLayout.InitialCluster([layout]), "replay-bench", ["--quota-backend-bytes=8589934592"]);
        try
        {
            var spec = new ClusterSpec(ClusterName.Parse("source"), [layout.ClientUrl], null, null, []);
            using var client = new EtcdClusterClient(spec, TimeSpan.FromSeconds(30));
            var endpoint = layout.ClientUrl;
            await WaitAsync(client, endpoint, cancellationToken);
            await client.PutAsync(endpoint, "/seed", "0", cancellationToken);
            var baseSnapshot = Path.Combine(root, "base.db");
            await using (var file = new FileStream(baseSnapshot, FileMode.Create))
            {
                await client.SnapshotAsync(endpoint, new FileSink(file), null, SnapshotOptions.Default, cancellationToken);
            }

            var baseRevision = (await client.StatusAsync(endpoint, cancellationToken)).Revision;

            // The reference: the same writes, one sequential transaction each, into a plain etcd.
            var selfBefore = CpuTime.Of("self");
            var sourceBefore = CpuTime.Of(source.Pid.ToString(CultureInfo.InvariantCulture));
            var clock = Stopwatch.StartNew();
            var last = await WriteAsync(client, endpoint, revisions, cancellationToken);
            var writeWall = clock.Elapsed;
            var writeCpu = (CpuTime.Of("self") - selfBefore).Own;
            var sourceCpu = (CpuTime.Of(source.Pid.ToString(CultureInfo.InvariantCulture)) - sourceBefore).Own;

            var segments = await CaptureAsync(client, endpoint, baseRevision + 1, last, cancellationToken);
            System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{last - baseRevision:N0} revisions after the base (revision {baseRevision}), {segments.Count} segments, {segments.Sum(s => s.EventCount):N0} events"));
            System.Console.WriteLine();
            System.Console.WriteLine("                                          revisions/s   wall s   CPU s (bench)   CPU s (children: etcd, etcdctl)");
            System.Console.WriteLine(Line("reference: same writes, sequential txns", last - baseRevision, writeWall, writeCpu, sourceCpu));

            for (var run = 1; run <= runs; run++)
            {
                var scratch = Path.Combine(scratchParent ?? root, $"replay-run-{run}");
                Directory.CreateDirectory(scratch);
                var options = new ReplayOptions(etcdBinary, "etcdctl", scratch, TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10));
                var timing = new ReplayTiming();
                var before = CpuTime.Of("self");
                clock.Restart();
                var outcome = await new PointInTimeReplay(options, NullLogger.Instance).RunAsync(baseSnapshot, Stream(segments), last, Path.Combine(root, $"out-{run}.db"), timing, cancellationToken);
                var total = clock.Elapsed;
                var cpu = CpuTime.Of("self") - before;
                if (outcome.Revision != last)
                {
                    throw new InvalidOperationException($"replay ended at {outcome.Revision}, not {last}");
                }

                System.Console.WriteLine(Line($"run {run}: replay loop (txns only)", outcome.RevisionsReplayed, timing.Loop, double.NaN, double.NaN));
                System.Console.WriteLine(Line($"run {run}: whole build incl. verify", outcome.RevisionsReplayed, total, cpu.Own, cpu.Children));
                Directory.Delete(scratch, recursive: true);
            }

            System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scratch (replay data dir): {scratchParent ?? root}; load average: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} cores)"));
            return 0;
        }
        finally
        {
            await source.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    private static string Line(string label, long revisions, TimeSpan wall, double cpu, double etcdCpu) =>
        string.Create(CultureInfo.InvariantCulture, $"{label,-40} {revisions / wall.TotalSeconds,12:N0} {wall.TotalSeconds,8:0.0} {(double.IsNaN(cpu) ? "" : cpu.ToString("0.0", CultureInfo.InvariantCulture)),15} {(double.IsNaN(etcdCpu) ? "" : etcdCpu.ToString("0.0", CultureInfo.InvariantCulture)),14}");

    private static async IAsyncEnumerable<DeltaSegment> Stream(IReadOnlyList<DeltaSegment> segments)
    {
        foreach (var segment in segments)
        {
            await Task.Yield();
            yield return DeltaSegmentFormat.Decode(DeltaSegmentFormat.Encode(segment));
        }
    }

    private static async Task<long> WriteAsync(EtcdClusterClient client, Uri endpoint, int revisions, CancellationToken cancellationToken)
    {
        var random = new Random(16);
        var live = new List<string>();
        const long lease = 0x6000;
        await client.LeaseGrantAsync(endpoint, lease, 3600, cancellationToken);
        var last = 0L;
        for (var i = 0; i < revisions; i++)
        {
            var roll = random.Next(100);
            string Key() => $"/bench/{random.Next(5000):D4}";
            byte[] Value() => Encoding.UTF8.GetBytes(new string('v', random.Next(20, 200)));
            List<DeltaEvent> ops = roll switch
            {
                < 55 => [new(DeltaEventKind.Put, Encoding.UTF8.GetBytes(Key()), Value(), 0, 0, 0, 0)],
                < 70 when live.Count > 0 => [new(DeltaEventKind.Delete, Encoding.UTF8.GetBytes(live[random.Next(live.Count)]), [], 0, 0, 0, 0)],
                < 90 => [.. Enumerable.Range(0, random.Next(2, 5)).Select(_ => Key()).Distinct().Select(k => new DeltaEvent(DeltaEventKind.Put, Encoding.UTF8.GetBytes(k), Value(), 0, 0, 0, 0))],
                _ => [new(DeltaEventKind.Put, Encoding.UTF8.GetBytes($"/leased/{random.Next(500)}"), Value(), 0, 0, 0, lease)],
            };
            last = await client.ApplyRevisionAsync(endpoint, ops, cancellationToken);
            foreach (var op in ops)
            {
                if (op.Kind == DeltaEventKind.Put)
                {
                    live.Add(op.KeyText);
                }
                else
                {
                    live.RemoveAll(k => k == op.KeyText);
                }
            }
        }

        return last;
    }

    private static async Task<List<DeltaSegment>> CaptureAsync(EtcdClusterClient client, Uri endpoint, long from, long last, CancellationToken cancellationToken)
    {
        var ttls = (await client.ListLeasesAsync(endpoint, cancellationToken)).ToDictionary(l => l.Id, l => l.GrantedTtl);
        var segments = new List<DeltaSegment>();
        var pending = new List<DeltaRevision>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var watch = await client.WatchAsync(endpoint, from, stop.Token);
        await foreach (var batch in watch.ReadAllAsync(stop.Token))
        {
            foreach (var group in batch.Events.GroupBy(e => e.ModRevision))
            {
                pending.Add(new DeltaRevision(group.Key, DateTimeOffset.UtcNow, [.. group]));
                if (pending.Count == 1000 || group.Key == last)
                {
                    var leases = pending.SelectMany(r => r.Events).Where(e => e.Lease != 0).Select(e => e.Lease).Distinct().ToDictionary(l => l, l => ttls.GetValueOrDefault(l, -1));
                    segments.Add(new DeltaSegment(ClusterName.Parse("source"), pending[0].Revision, pending[^1].Revision, [.. pending], leases));
                    pending = [];
                }
            }

            if (segments.Count > 0 && segments[^1].LastRevision == last)
            {
                break;
            }
        }

        return segments;
    }

    private static async Task WaitAsync(EtcdClusterClient client, Uri endpoint, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await client.StatusAsync(endpoint, cancellationToken)).Leader != 0)
                {
                    return;
                }
            }
            catch (EtcdException) when (deadline.Elapsed < TimeSpan.FromMinutes(2))
            {
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Times the replay loop from the progress it reports: first "replaying" to "verifying".</summary>
    private sealed class ReplayTiming : IProgress<PointInTimeProgress>
    {
        private readonly Stopwatch _clock = new();

        public TimeSpan Loop { get; private set; }

        public void Report(PointInTimeProgress value)
        {
            if (value.Phase == "replaying" && !_clock.IsRunning)
            {
                _clock.Start();
            }
            else if (value.Phase == "verifying")
            {
                Loop = _clock.Elapsed;
            }
        }
    }

    private sealed class FileSink(FileStream file) : ISnapshotSink
    {
        public ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken) => file.WriteAsync(chunk, cancellationToken);
    }
}
