using System.Globalization;
using System.Text;
using System.Text.Json;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Continuous;

/// <summary>One key as etcd holds it at some revision.</summary>
internal sealed record KeyState(string Value, long CreateRevision, long ModRevision, long Version, long Lease);

/// <summary>
/// What the capture tests share: the console's settings for a cluster with continuous backup on, a writer that talks to
/// etcd directly (puts, overwrites, deletes, multi-operation transactions, leased keys) and knows the revision of every
/// write, and the watch-free oracle: <c>etcdctl get "" --prefix --rev=R</c> on a source that is never compacted.
/// </summary>
internal static class CaptureOracle
{
    public const string Cluster = "cap";

    public static ClusterName Name => ClusterName.Parse(Cluster);

    public static Dictionary<string, string?> Settings(TestEtcdCluster etcd, string flush = "1s")
    {
        var settings = TestTokens.Cluster(etcd, Cluster);
        settings["Console:Clusters:0:Backup:Targets:0"] = "local";
        settings["Console:Clusters:0:Backup:Continuous:Enabled"] = "true";
        settings["Console:Clusters:0:Backup:Continuous:FlushInterval"] = flush;
        return settings;
    }

    /// <summary>Waits until the watcher has its base (a full snapshot) and returns the chain's start revision.</summary>
    public static async Task<long> BaseRevisionAsync(IServiceProvider services)
    {
        var ledger = services.GetRequiredService<DeltaLedger>();
        var state = await Eventually.ValueAsync(() => ledger.StateAsync(Cluster, CancellationToken.None), s => s is not null, TimeSpan.FromSeconds(120));
        var window = await services.GetRequiredService<IDeltaHistory>().WindowAsync(Name, CancellationToken.None);
        return Assert.Single(window.Spans).FromRevision;
    }

    public static Task<ContinuousState?> DurableAtLeastAsync(IServiceProvider services, long revision, TimeSpan? timeout = null)
    {
        var ledger = services.GetRequiredService<DeltaLedger>();
        return Eventually.ValueAsync(() => ledger.StateAsync(Cluster, CancellationToken.None), s => s?.DurableRevision >= revision, timeout ?? TimeSpan.FromSeconds(90));
    }

    /// <summary>Every key at <paramref name="revision"/>, read by etcdctl (no watch involved).</summary>
    public static Dictionary<string, KeyState> StateAt(TestEtcdCluster etcd, long revision)
    {
        using var json = JsonDocument.Parse(etcd.Etcdctl("get", "", "--prefix", $"--rev={revision.ToString(CultureInfo.InvariantCulture)}", "-w", "json"));
        var state = new Dictionary<string, KeyState>(StringComparer.Ordinal);
        if (json.RootElement.TryGetProperty("kvs", out var kvs))
        {
            foreach (var kv in kvs.EnumerateArray())
            {
                var key = Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty("key").GetString()!));
                var value = kv.TryGetProperty("value", out var v) ? Encoding.UTF8.GetString(Convert.FromBase64String(v.GetString()!)) : "";
                state[key] = new KeyState(value, Long(kv, "create_revision"), Long(kv, "mod_revision"), Long(kv, "version"), Long(kv, "lease"));
            }
        }

        return state;
    }

    private static long Long(JsonElement element, string name) => element.TryGetProperty(name, out var p) ? p.GetInt64() : 0;

    /// <summary>
    /// Replays the segments over the state at <paramref name="baseRevision"/> and compares with the oracle at every
    /// revision up to <paramref name="head"/>; returns the revisions the segments held after the base, in order.
    /// </summary>
    public static List<long> ReplayAndCompare(TestEtcdCluster etcd, IReadOnlyList<DeltaSegment> segments, long baseRevision, long head)
    {
        var state = StateAt(etcd, baseRevision);
        var seen = new List<long>();
        var reached = baseRevision;
        foreach (var revision in segments.SelectMany(s => s.Revisions))
        {
            if (revision.Revision <= reached)
            {
                continue; // overlap with the base (or the previous segment) is allowed
            }

            foreach (var e in revision.Events)
            {
                if (e.Kind == DeltaEventKind.Put)
                {
                    state[e.KeyText] = new KeyState(Encoding.UTF8.GetString(e.Value), e.CreateRevision, e.ModRevision, e.Version, e.Lease);
                }
                else
                {
                    state.Remove(e.KeyText);
                }
            }

            reached = revision.Revision;
            seen.Add(reached);
            if (reached <= head)
            {
                var expected = StateAt(etcd, reached);
                Assert.True(
                    expected.Count == state.Count && expected.All(kv => state.TryGetValue(kv.Key, out var mine) && mine == kv.Value),
                    $"at revision {reached} the replayed state differs from etcd's:\n  etcd:   {Describe(expected)}\n  replay: {Describe(state)}");
            }
        }

        return seen;
    }

    private static string Describe(Dictionary<string, KeyState> state) => string.Join(", ", state.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));

    public static async Task<List<DeltaSegment>> ReadAllAsync(IServiceProvider services, long after, long through)
    {
        var history = services.GetRequiredService<IDeltaHistory>();
        var segments = new List<DeltaSegment>();
        await foreach (var segment in history.ReadAsync(Name, after, through, null, CancellationToken.None))
        {
            segments.Add(segment);
        }

        return segments;
    }
}

/// <summary>Writes to etcd over gRPC and returns each write's revision (the header's).</summary>
internal sealed class EtcdWriter : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly KV.KVClient _kv;
    private readonly Lease.LeaseClient _lease;

    public EtcdWriter(Uri endpoint)
    {
        _channel = GrpcChannel.ForAddress(endpoint);
        _kv = new KV.KVClient(_channel);
        _lease = new Lease.LeaseClient(_channel);
    }

    public async Task<long> PutAsync(string key, string value, long lease = 0) =>
        (await _kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value), Lease = lease })).Header.Revision;

    public async Task<long> DeleteAsync(string key) =>
        (await _kv.DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) })).Header.Revision;

    /// <summary>One transaction: several puts and deletes at one revision.</summary>
    public async Task<long> TxnAsync(IEnumerable<(string Key, string? Value)> operations)
    {
        var txn = new TxnRequest();
        foreach (var (key, value) in operations)
        {
            txn.Success.Add(value is null
                ? new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) } }
                : new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } });
        }

        return (await _kv.TxnAsync(txn)).Header.Revision;
    }

    public async Task<long> GrantAsync(long ttlSeconds) => (await _lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds })).ID;

    public async Task<long> RevokeAsync(long lease) => (await _lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease })).Header.Revision;

    public async Task<long> HeadAsync() => (await _kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("\0"), CountOnly = true })).Header.Revision;

    /// <summary>
    /// A mixed history: new keys, overwrites, deletes, multi-operation transactions, a key on a long lease that is
    /// revoked, and keys on a short lease that expires (etcd deletes them at a revision of its own).
    /// </summary>
    /// <param name="afterLeasedPuts">Awaited with the revision of the last leased put, before anything else is written.</param>
    public async Task<long> MixedHistoryAsync(string prefix, int rounds, Func<long, Task>? afterLeasedPuts = null)
    {
        var longLease = await GrantAsync(60);
        var shortLease = await GrantAsync(2);
        await PutAsync($"{prefix}/leased/long", "held", longLease);
        await PutAsync($"{prefix}/leased/short-1", "soon gone", shortLease);
        var leased = await PutAsync($"{prefix}/leased/short-2", "soon gone too", shortLease);
        if (afterLeasedPuts is not null)
        {
            await afterLeasedPuts(leased);
        }

        for (var i = 0; i < rounds; i++)
        {
            await PutAsync($"{prefix}/k{i % 4}", $"v{i}");
            await PutAsync($"{prefix}/k{i % 4}", $"v{i}-overwritten");
            await TxnAsync([($"{prefix}/t{i}/a", $"a{i}"), ($"{prefix}/t{i}/b", $"b{i}"), ($"{prefix}/k{(i + 1) % 4}", null)]);
            if (i % 3 == 2)
            {
                await DeleteAsync($"{prefix}/t{i - 1}/a");
            }
        }

        await RevokeAsync(longLease);

        // The short lease expires on its own: wait until etcd has deleted its keys (one more revision).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await _kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8($"{prefix}/leased/short-1") })).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the 2-second lease never expired");
            await Task.Delay(100);
        }

        return await HeadAsync();
    }

    public void Dispose() => _channel.Dispose();
}
