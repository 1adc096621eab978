using System.Globalization;
using System.Security.Cryptography;
using Console.Infrastructure.Etcd;

namespace Console.Bench;

/// <summary>
/// Grows the store with distinct keys holding 1 MiB of base64 text over random bytes (nothing for a page cache or a
/// disk to compress), four puts in flight through the console's own client, until etcd reports the target DB size.
/// </summary>
internal sealed class Filler(EtcdClusterClient client, Uri endpoint) : IFiller
{
    private const int RawBytesPerValue = 768 * 1024; // 1 MiB once base64-encoded

    private long? _emptySize;

    public int Keys { get; private set; }

    public async Task<long> FillToAsync(long targetBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            var dbSize = (await client.StatusAsync(endpoint, cancellationToken)).DbSize;
            _emptySize ??= dbSize;
            if (dbSize >= targetBytes)
            {
                return dbSize;
            }

            // A key costs a little more than its 1 MiB in bbolt (page rounding, branch pages, freed pages), so put only
            // what the growth so far says is missing, then look again: the store ends within a key of the target.
            var bytesPerKey = Keys == 0 ? Benchmark.MiB * 9 / 8 : Math.Max(Benchmark.MiB, (dbSize - _emptySize.Value) / Keys);
            var missing = (int)Math.Max(1, (targetBytes - dbSize) / bytesPerKey);
            var first = Keys;
            await Parallel.ForEachAsync(
                Enumerable.Range(first, missing),
                new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
                async (i, token) => await client.PutAsync(endpoint, string.Create(CultureInfo.InvariantCulture, $"/bench/data/{i:D6}"), RandomValue(), token));
            Keys = first + missing;

            // etcd's backend commits every 100 ms; let the reported size catch up before deciding whether to add more.
            await Task.Delay(500, cancellationToken);
        }
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"{Keys} keys of 1 MiB");

    private static string RandomValue()
    {
        var bytes = new byte[RawBytesPerValue];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes);
    }
}
