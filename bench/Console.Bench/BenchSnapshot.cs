using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Storage;

namespace Console.Bench;

/// <summary>What every benchmarked snapshot path shares: its manifest and its progress sink.</summary>
internal static class BenchSnapshot
{
    public static SnapshotManifest Manifest(ClusterSpec spec, SnapshotName name, SnapshotResult result, DateTimeOffset startedAt) => new()
    {
        Cluster = spec.Name.Value,
        FileName = name.FileName,
        Revision = result.Revision,
        SizeBytes = result.Size,
        Sha256 = result.Sha256,
        Trigger = "Benchmark",
        StartedAt = startedAt,
        FinishedAt = DateTimeOffset.UtcNow,
    };
}

/// <summary>Like BackupRunner's progress: remembers the latest figures, synchronously, on every message.</summary>
internal sealed class LatestProgress : IProgress<SnapshotProgress>
{
    public SnapshotProgress Latest { get; private set; }

    public void Report(SnapshotProgress value) => Latest = value;
}
