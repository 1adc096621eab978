using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Console.Bench;

/// <summary>How the store is filled: <see cref="Filler"/> (random) or <see cref="K8sFiller"/> (Kubernetes-like).</summary>
internal interface IFiller
{
    /// <summary>Puts until etcd reports at least <paramref name="targetBytes"/> of DB; returns the DB size.</summary>
    Task<long> FillToAsync(long targetBytes, CancellationToken cancellationToken);

    /// <summary>What is in the store so far, for the log.</summary>
    string Describe();
}

/// <summary>
/// Fills etcd as a busy Kubernetes cluster's API server would between two compactions: objects created (a quarter
/// of the target's bytes), then updated, the same keys again and again (pods and custom resources most, ConfigMaps
/// and Secrets seldom), every put its own revision, as the API server writes. Values are raw bytes (protobuf-shaped
/// ones are not text), so they go through etcd's own KV client rather than the console's string puts, 16 in flight.
/// The same seed gives the same puts in the same order.
/// </summary>
internal sealed class K8sFiller(Uri endpoint, int seed) : IFiller, IDisposable
{
    private readonly K8sObjects _objects = new(seed);
    private readonly Random _order = new(seed);
    private readonly List<int> _versions = [];
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(endpoint);
    private readonly List<int> _sizes = [];
    private long _bytesPut;
    private int _updates;

    public async Task<long> FillToAsync(long targetBytes, CancellationToken cancellationToken)
    {
        var kv = new KV.KVClient(_channel);
        var maintenance = new Maintenance.MaintenanceClient(_channel);
        while (true)
        {
            var dbSize = (await maintenance.StatusAsync(new StatusRequest(), cancellationToken: cancellationToken)).DbSize;
            if (dbSize >= targetBytes)
            {
                return dbSize;
            }

            // Creations until a quarter of the target is in, then updates; the next batch is what is missing, in
            // batches of at most 2,000 puts, then the DB size is asked again.
            var batch = new List<(string Key, byte[] Value)>();
            var missing = targetBytes - dbSize;
            long planned = 0;
            while (planned < missing && batch.Count < 2000)
            {
                var (index, version) = _bytesPut < targetBytes / 4 ? Create() : Update();
                var value = _objects.Value(index, version);
                batch.Add((_objects.Key(index), value));
                planned += value.Length + 200;
                _bytesPut += value.Length;
                if (_sizes.Count < 100_000)
                {
                    _sizes.Add(value.Length);
                }
            }

            await Parallel.ForEachAsync(
                batch,
                new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
                async (put, token) => await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(put.Key), Value = ByteString.CopyFrom(put.Value) }, cancellationToken: token));

            // etcd's backend commits every 100 ms; let the reported size catch up before deciding whether to add more.
            await Task.Delay(300, cancellationToken);
        }
    }

    public string Describe()
    {
        var sorted = _sizes.Order().ToArray();
        string KiB(double bytes) => (bytes / 1024).ToString("0.0", CultureInfo.InvariantCulture);
        var byKind = Enumerable.Range(0, _versions.Count).GroupBy(K8sObjects.KindOf).Select(g => $"{g.Count()} {g.Key}");
        return sorted.Length == 0
            ? "empty"
            : $"{_versions.Count} objects ({string.Join(", ", byKind)}), {_versions.Count + _updates} puts ({_updates} updates), "
              + $"{_bytesPut / (double)Benchmark.MiB:0.0} MiB of values: {KiB(sorted[0])}/{KiB(sorted[sorted.Length / 2])}/{KiB(sorted[^1])} KiB min/median/max, seed {seed}";
    }

    public void Dispose() => _channel.Dispose();

    private (int Index, int Version) Create()
    {
        _versions.Add(0);
        return (_versions.Count - 1, 0);
    }

    /// <summary>An update of an existing object: pods and custom resources change often, ConfigMaps and Secrets seldom.</summary>
    private (int Index, int Version) Update()
    {
        while (true)
        {
            var index = _order.Next(_versions.Count);
            var kind = K8sObjects.KindOf(index);
            var chance = kind is "configmaps" or "secrets" ? 0.1 : 1.0;
            if (_order.NextDouble() < chance)
            {
                _updates++;
                return (index, ++_versions[index]);
            }
        }
    }
}
