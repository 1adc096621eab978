using System.Diagnostics;
using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Storage;

namespace Console.Bench;

/// <summary>Which stores one snapshot goes to: local only, S3 only, or both (teed, as BackupRunner does).</summary>
internal sealed record TargetMode(string Label, IReadOnlyList<ISnapshotStore> Stores);

/// <summary>One snapshot to one or more stores: its wall time, size, and where its time went.</summary>
internal sealed record TargetRun(double Seconds, double StreamSeconds, long Size, string Sha256)
{
    public double ClientCpu { get; init; }

    public double EtcdCpu { get; init; }

    public double S3rverCpu { get; init; }

    public long BaselineRss { get; init; }

    public long PeakRss { get; init; }
}

/// <summary>
/// The console's snapshot path with one or more targets: a client for the cluster, then the product's SnapshotPipeline
/// (a writer from each store's BeginWriteAsync, for S3 the multipart upload initiated there; the verified stream teed
/// over the writers; then each writer's CompleteAsync in turn (local: fsync, rename, directory fsync, manifest;
/// S3: the last parts, complete-multipart, manifest PUT, as the S3 store does it)
/// and disposal). Timed from creating the client to the last writer disposed. Every snapshot gets a fresh name.
/// </summary>
internal sealed class TargetSnapshotPath(ClusterSpec spec, Uri endpoint)
{
    private DateTimeOffset _last = DateTimeOffset.MinValue;

    public async Task<(TargetRun Run, SnapshotName Name)> RunAsync(TargetMode mode, CancellationToken cancellationToken, SnapshotSealing? sealing = null)
    {
        var name = FreshName() with { Codec = (sealing ?? SnapshotSealing.None).Codec };
        var clock = Stopwatch.StartNew();
        var streamed = TimeSpan.Zero;
        SnapshotPipelineResult outcome;
        using (var client = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5)))
        {
            var job = BenchJob.For(client, endpoint, name, [.. mode.Stores.Select(s => s.Target)], DateTimeOffset.UtcNow) with { Sealing = sealing };
            outcome = await new SnapshotPipeline(new SnapshotStores(mode.Stores), TimeProvider.System).RunAsync(job, new LatestProgress(), () => streamed = clock.Elapsed, cancellationToken);
        }

        clock.Stop();
        if (outcome.Errors.Count > 0)
        {
            throw new InvalidOperationException($"a target failed: {string.Join("; ", outcome.Errors.Values)}");
        }

        return (new TargetRun(clock.Elapsed.TotalSeconds, streamed.TotalSeconds, outcome.Snapshot.Size, outcome.Snapshot.Sha256), name);
    }

    /// <summary>
    /// Checks every store holds the snapshot at its full stored size (the raw size, or for a sealed copy the size its
    /// manifest records) with the raw stream's sha256 in its manifest, then deletes it (and its manifest) from each.
    /// Returns the stored size.
    /// </summary>
    public static async Task<long> VerifyAndDeleteAsync(TargetMode mode, SnapshotName name, long size, string sha256, CancellationToken cancellationToken)
    {
        var storedSize = size;
        foreach (var store in mode.Stores)
        {
            var found = (await store.ListAsync(name.Cluster, withManifests: false, cancellationToken)).FirstOrDefault(s => s.Name == name);
            var manifest = await store.ReadManifestAsync(name, cancellationToken);
            await store.DeleteAsync(name, cancellationToken);
            storedSize = manifest?.StoredSizeBytes ?? size;
            if (found is null || found.SizeBytes != storedSize || manifest?.Sha256 != sha256)
            {
                throw new InvalidOperationException(
                    $"{store.Target} holds {(found is null ? "nothing" : $"{found.SizeBytes} bytes")} for {name.FileName} with manifest sha256 {manifest?.Sha256 ?? "(none)"}, not {storedSize} bytes with {sha256}");
            }
        }

        return storedSize;
    }

    /// <summary>Names have millisecond resolution; never reuse one, even if two snapshots start within the same millisecond.</summary>
    private SnapshotName FreshName()
    {
        var now = DateTimeOffset.UtcNow;
        _last = now > _last.AddMilliseconds(1) ? now : _last.AddMilliseconds(1);
        return SnapshotName.For(spec.Name, _last);
    }
}
