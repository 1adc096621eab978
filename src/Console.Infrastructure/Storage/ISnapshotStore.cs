using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Etcd;

namespace Console.Infrastructure.Storage;

/// <summary>
/// A place snapshots are kept: the local directory or an S3 bucket. The store, not the console's database, is the
/// source of truth: every snapshot has a manifest beside it, and only names that parse as ours are touched.
/// </summary>
public interface ISnapshotStore
{
    /// <summary>"local" or "s3", as in a cluster's Backup:Targets.</summary>
    string Target { get; }

    Task<IReadOnlyList<StoredSnapshot>> ListAsync(ClusterName? cluster, bool withManifests, CancellationToken cancellationToken);

    Task<ISnapshotWriter> BeginWriteAsync(SnapshotName name, CancellationToken cancellationToken);

    /// <summary>Opens a snapshot to read. <see cref="FileNotFoundException"/> when the store does not hold it; <see cref="IOException"/>
    /// (with the reason in words) when the store could not be read.</summary>
    Task<Stream> OpenReadAsync(SnapshotName name, CancellationToken cancellationToken);

    Task<SnapshotManifest?> ReadManifestAsync(SnapshotName name, CancellationToken cancellationToken);

    Task DeleteAsync(SnapshotName name, CancellationToken cancellationToken);

    /// <summary>Can a snapshot be written right now? Writes and removes a small probe.</summary>
    Task<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken);

    /// <summary>Where a snapshot of this name lives: a path, or s3://bucket/key.</summary>
    string LocationOf(SnapshotName name);

    /// <summary>
    /// Stores one delta segment's (sealed) bytes under its name, atomically: a local <c>.part</c> file fsynced and
    /// renamed, or one PUT. A segment is written once; a second write of the same name replaces identical content.
    /// </summary>
    Task WriteSegmentAsync(DeltaSegmentName name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>The cluster's delta segments in this store (only names that parse as segments), oldest revision first.</summary>
    Task<IReadOnlyList<StoredSegment>> ListSegmentsAsync(ClusterName cluster, CancellationToken cancellationToken);

    /// <summary>Opens a segment's stored bytes. <see cref="FileNotFoundException"/> when the store does not hold it.</summary>
    Task<Stream> OpenSegmentAsync(DeltaSegmentName name, CancellationToken cancellationToken);

    Task DeleteSegmentAsync(DeltaSegmentName name, CancellationToken cancellationToken);

    /// <summary>Where a segment of this name lives: a path, or s3://bucket/key.</summary>
    string LocationOf(DeltaSegmentName name);
}

/// <summary>A delta segment in a store.</summary>
public sealed record StoredSegment(string Target, DeltaSegmentName Name, long SizeBytes, string Location);

/// <summary>One snapshot being written to one store. Disposing without completing aborts it, leaving nothing at the final name.</summary>
public interface ISnapshotWriter : ISnapshotSink, IAsyncDisposable
{
    string Location { get; }

    /// <summary>Makes the snapshot durable under its final name, with its manifest beside it.</summary>
    Task CompleteAsync(SnapshotManifest manifest, CancellationToken cancellationToken);
}

/// <summary>The configured stores by target name.</summary>
public sealed class SnapshotStores(IEnumerable<ISnapshotStore> stores)
{
    private readonly Dictionary<string, ISnapshotStore> _byTarget = stores.ToDictionary(s => s.Target, StringComparer.Ordinal);

    public IReadOnlyCollection<ISnapshotStore> All => _byTarget.Values;

    public ISnapshotStore? Find(string target) => _byTarget.GetValueOrDefault(target);

    public ISnapshotStore Get(string target) =>
        Find(target) ?? throw new InvalidOperationException($"the {target} target is not configured (Console:Storage:{(target == "s3" ? "S3:Bucket" : "Local:Dir")})");
}
