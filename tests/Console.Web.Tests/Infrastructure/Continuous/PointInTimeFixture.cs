using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Console.Infrastructure.Sealing;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Continuous;

/// <summary>
/// A test double of the delta history ONLY (until the real capture lands): segments are captured from a real source
/// etcd with the product's watch, grouped per revision, encoded with the product's segment format and decoded again
/// on every read, so a damaged segment fails exactly as a stored one would. The replay, etcd and snapshots are real.
/// </summary>
internal sealed class CapturedHistory : IDeltaHistory
{
    private readonly List<(long First, long Last, byte[] Bytes)> _segments = [];

    public CapturedHistory(ClusterName cluster) => Cluster = cluster;

    public ClusterName Cluster { get; }

    /// <summary>The one span: set by the test once the base snapshot and the capture are known.</summary>
    public RecoverableSpan? Span { get; set; }

    public IReadOnlyList<(long First, long Last, byte[] Bytes)> Segments => _segments;

    public long LastRevision => _segments.Count == 0 ? 0 : _segments[^1].Last;

    private long _receivedThrough;

    /// <summary>The newest revision the capture has received (and stamped), flushed or not.</summary>
    public long ReceivedThrough => Interlocked.Read(ref _receivedThrough);

    public string NameOf(int index) => new DeltaSegmentName(Cluster, _segments[index].First, _segments[index].Last).FileName;

    /// <summary>Flips one byte in the middle of segment <paramref name="index"/>, as bit rot in a store would.</summary>
    public void Damage(int index) => _segments[index].Bytes[_segments[index].Bytes.Length / 2] ^= 0x5a;

    public Task<RecoverableWindow> WindowAsync(ClusterName cluster, CancellationToken cancellationToken) =>
        Task.FromResult(Span is { } span ? new RecoverableWindow(cluster, true, [span], [], span.ToTime) : RecoverableWindow.Off(cluster));

    public async IAsyncEnumerable<DeltaSegment> ReadAsync(ClusterName cluster, long afterRevision, long throughRevision, IReadOnlyList<AgeIdentity>? identities, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var (first, last, bytes) in _segments.ToList())
        {
            if (last <= afterRevision)
            {
                continue;
            }

            if (first > throughRevision)
            {
                yield break;
            }

            await Task.Yield();
            DeltaSegment segment;
            try
            {
                segment = DeltaSegmentFormat.Decode(bytes);
            }
            catch (DeltaSegmentException ex)
            {
                throw new DeltaSegmentException($"segment {new DeltaSegmentName(cluster, first, last).FileName} is damaged: {ex.Message}", ex);
            }

            yield return segment;
        }
    }

    /// <summary>
    /// Watches <paramref name="endpoint"/> from <paramref name="fromRevision"/> and turns what arrives into segments of
    /// up to <paramref name="revisionsPerSegment"/> revisions, each revision stamped with its receive time, until
    /// <paramref name="stopAt"/> gives a revision that has been received.
    /// </summary>
    public async Task CaptureAsync(EtcdClusterClient client, Uri endpoint, long fromRevision, Func<long?> stopAt, int revisionsPerSegment, CancellationToken cancellationToken)
    {
        var ttls = new Dictionary<long, long>();
        var pending = new List<DeltaRevision>();
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var watch = await client.WatchAsync(endpoint, fromRevision, cancellationToken);
        using var progress = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        var reader = watch.ReadAllAsync(reading.Token).GetAsyncEnumerator(reading.Token);
        var last = fromRevision - 1;
        var ask = progress.WaitForNextTickAsync(cancellationToken).AsTask();
        var next = reader.MoveNextAsync().AsTask();
        while (stopAt() is not { } stop || last < stop)
        {
            if (await Task.WhenAny(next, ask) == ask)
            {
                await watch.RequestProgressAsync(cancellationToken); // so a quiet source still ends the capture
                ask = progress.WaitForNextTickAsync(cancellationToken).AsTask();
                continue;
            }

            if (!await next)
            {
                break;
            }

            var batch = reader.Current;
            var now = DateTimeOffset.UtcNow;
            last = Math.Max(last, batch.HeaderRevision);
            foreach (var group in batch.Events.GroupBy(e => e.ModRevision).OrderBy(g => g.Key))
            {
                foreach (var lease in group.Select(e => e.Lease).Where(l => l != 0 && !ttls.ContainsKey(l)).Distinct().ToList())
                {
                    foreach (var known in await client.ListLeasesAsync(endpoint, cancellationToken))
                    {
                        ttls.TryAdd(known.Id, known.GrantedTtl);
                    }

                    ttls.TryAdd(lease, -1);
                }

                pending.Add(new DeltaRevision(group.Key, now, [.. group]));
                Interlocked.Exchange(ref _receivedThrough, group.Key);
                if (pending.Count == revisionsPerSegment)
                {
                    Flush(pending, ttls);
                }
            }

            next = reader.MoveNextAsync().AsTask();
        }

        Flush(pending, ttls);

        // An async iterator cannot be disposed while a read is pending: end the read first.
        await reading.CancelAsync();
        await next.ContinueWith(_ => { }, TaskScheduler.Default);
        await ask.ContinueWith(_ => { }, TaskScheduler.Default);
        await reader.DisposeAsync();
    }

    private void Flush(List<DeltaRevision> pending, Dictionary<long, long> ttls)
    {
        if (pending.Count == 0)
        {
            return;
        }

        var named = pending.SelectMany(r => r.Events).Select(e => e.Lease).Where(l => l != 0).Distinct().ToDictionary(l => l, l => ttls.GetValueOrDefault(l, -1));
        var segment = new DeltaSegment(Cluster, pending[0].Revision, pending[^1].Revision, [.. pending], named);
        _segments.Add((segment.FirstRevision, segment.LastRevision, DeltaSegmentFormat.Encode(segment)));
        pending.Clear();
    }
}

/// <summary>
/// Writes to a source etcd like a busy application: puts, overwrites, deletes, multi-operation transactions, and keys
/// on short leases that expire during the run (plus some on a long lease that outlives it).
/// </summary>
internal static class SourceWriter
{
    public static async Task<long> RunAsync(EtcdClusterClient client, Uri endpoint, TimeSpan duration, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var live = new HashSet<string>();
        var clock = Stopwatch.StartNew();
        var longLease = 0x7000_0000_0000_0000L + seed;
        await client.LeaseGrantAsync(endpoint, longLease, 600, cancellationToken);
        var nextLease = longLease + 1;
        var revision = 0L;
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        while (clock.Elapsed < duration && await pace.WaitForNextTickAsync(cancellationToken))
        {
            var roll = random.Next(100);
            var ops = new List<DeltaEvent>();
            string Key() => $"/app/{random.Next(300):D3}";
            byte[] Value() => Encoding.UTF8.GetBytes($"v{random.Next(1_000_000)}-{new string('x', random.Next(40))}");
            if (roll < 45)
            {
                ops.Add(Put(Key(), Value(), 0));
            }
            else if (roll < 60 && live.Count > 0)
            {
                ops.Add(Delete(live.ElementAt(random.Next(live.Count))));
            }
            else if (roll < 80)
            {
                foreach (var key in Enumerable.Range(0, random.Next(2, 5)).Select(_ => Key()).Distinct())
                {
                    ops.Add(live.Contains(key) && random.Next(3) == 0 ? Delete(key) : Put(key, Value(), 0));
                }
            }
            else if (roll < 92)
            {
                // A short lease (2-3 s) that nobody keeps alive: it expires mid-run and etcd deletes its keys.
                var lease = nextLease++;
                await client.LeaseGrantAsync(endpoint, lease, random.Next(2, 4), cancellationToken);
                ops.AddRange(Enumerable.Range(0, random.Next(1, 4)).Select(i => Put($"/lease/{lease:x}/{i}", Value(), lease)));
            }
            else
            {
                ops.Add(Put($"/long/{random.Next(20)}", Value(), longLease));
            }

            if (ops.Count == 0)
            {
                continue;
            }

            revision = await client.ApplyRevisionAsync(endpoint, ops, cancellationToken);
            foreach (var op in ops)
            {
                if (op.Kind == DeltaEventKind.Put)
                {
                    live.Add(op.KeyText);
                }
                else
                {
                    live.Remove(op.KeyText);
                }
            }
        }

        return revision;
    }

    private static DeltaEvent Put(string key, byte[] value, long lease) => new(DeltaEventKind.Put, Encoding.UTF8.GetBytes(key), value, 0, 0, 0, lease);

    private static DeltaEvent Delete(string key) => new(DeltaEventKind.Delete, Encoding.UTF8.GetBytes(key), [], 0, 0, 0, 0);
}

/// <summary>The reference tools: etcdctl against any endpoint, and a built snapshot restored with etcdctl into a fresh etcd.</summary>
internal static class ReferenceTools
{
    public static string Etcdctl(Uri endpoint, params string[] arguments)
    {
        var info = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["ETCDCTL_API"] = "3";
        info.ArgumentList.Add($"--endpoints={endpoint.ToString().TrimEnd('/')}");
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output.Result : throw new InvalidOperationException($"etcdctl {string.Join(' ', arguments)} failed ({process.ExitCode}): {error}");
    }

    /// <summary>`etcdctl get "" --prefix -w json` (at <paramref name="revision"/> when given): the header revision and every key-value as etcd reports it.</summary>
    public static (long Revision, string Kvs) Dump(Uri endpoint, long? revision = null)
    {
        string[] arguments = revision is { } r ? ["get", "", "--prefix", "-w", "json", $"--rev={r}"] : ["get", "", "--prefix", "-w", "json"];
        using var json = JsonDocument.Parse(Etcdctl(endpoint, arguments));
        var header = json.RootElement.GetProperty("header").GetProperty("revision").GetInt64();
        var kvs = json.RootElement.TryGetProperty("kvs", out var list) ? list.GetRawText() : "[]";
        return (header, kvs);
    }

    /// <summary>Restores <paramref name="snapshot"/> with `etcdctl snapshot restore` into <paramref name="dir"/> and starts an etcd on it.</summary>
    public static async Task<EtcdProcess> RestoreAndStartAsync(string snapshot, string dir)
    {
        var ports = FreePorts.Pick(2);
        var layout = new EtcdMemberLayout("check", ports[0], ports[1], Path.Combine(dir, "data"));
        var initial = EtcdMemberLayout.InitialCluster([layout]);
        Etcdctl(new Uri("http://127.0.0.1:1"), "snapshot", "restore", snapshot, "--name", "check", "--initial-cluster", initial, "--initial-advertise-peer-urls", layout.PeerUrl.ToString().TrimEnd('/'), "--data-dir", layout.DataDir);
        var member = EtcdProcess.Start(EtcdBinary.Find("etcd")!, layout, initial, "check");
        try
        {
            await Eventually.ValueAsync(
                () => Task.FromResult(TryStatus(layout.ClientUrl)),
                ok => ok,
                TimeSpan.FromSeconds(90));
            return member;
        }
        catch
        {
            await member.DisposeAsync();
            throw;
        }
    }

    private static bool TryStatus(Uri endpoint)
    {
        try
        {
            Etcdctl(endpoint, "endpoint", "status");
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
