using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Etcd;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Storage;

/// <summary>A snapshot in a store, with its manifest when one was read.</summary>
public sealed record StoredSnapshot(string Target, SnapshotName Name, long SizeBytes, string Location, DateTimeOffset? StoredAt, SnapshotManifest? Manifest);

/// <summary>
/// Snapshots in a local directory. A snapshot is written to <c>NAME.part</c>, fsynced, renamed to its final name and
/// the directory fsynced, so no truncated file ever sits at a final name; its manifest follows the same path. Only
/// files whose names parse as ours are ever listed, opened or deleted.
/// </summary>
public sealed class LocalSnapshotStore : ISnapshotStore
{
    public LocalSnapshotStore(IOptions<ConsoleSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var configured = settings.Value.Storage.Local.Dir;
        Directory = Path.GetFullPath(string.IsNullOrWhiteSpace(configured) ? Path.Combine(settings.Value.DataDir, "snapshots") : configured);
    }

    public string Directory { get; }

    public string Target => "local";

    public string PathOf(SnapshotName name) => Path.Combine(Directory, name.FileName);

    public string LocationOf(SnapshotName name) => PathOf(name);

    public Task<IReadOnlyList<StoredSnapshot>> ListAsync(ClusterName? cluster, bool withManifests, CancellationToken cancellationToken) =>
        Task.FromResult(List(cluster, withManifests));

    public Task<ISnapshotWriter> BeginWriteAsync(SnapshotName name, CancellationToken cancellationToken) =>
        Task.FromResult<ISnapshotWriter>(BeginWrite(name));

    public Task<Stream> OpenReadAsync(SnapshotName name, CancellationToken cancellationToken) => Task.FromResult(Open(name));

    public Task<SnapshotManifest?> ReadManifestAsync(SnapshotName name, CancellationToken cancellationToken) => Task.FromResult(ReadManifest(name));

    public Task DeleteAsync(SnapshotName name, CancellationToken cancellationToken)
    {
        Delete(name);
        return Task.CompletedTask;
    }

    /// <summary>Writes, fsyncs and deletes a small file in the snapshot directory, and reads the free space there.</summary>
    public async Task<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var probe = Path.Combine(Directory, $".health-{Guid.NewGuid():N}");
            await File.WriteAllTextAsync(probe, "ok", cancellationToken).ConfigureAwait(false);
            File.Delete(probe);
            var free = new DriveInfo(Directory).AvailableFreeSpace;
            return new StorageHealth(Target, true, $"{Directory} is writable", free, now);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new StorageHealth(Target, false, $"{Directory} is not writable: {ex.Message}", null, now);
        }
    }

    public LocalSnapshotWriter BeginWrite(SnapshotName name)
    {
        System.IO.Directory.CreateDirectory(Directory);
        return new LocalSnapshotWriter(this, name);
    }

    public IReadOnlyList<StoredSnapshot> List(ClusterName? cluster = null, bool withManifests = true)
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        return [.. new DirectoryInfo(Directory).EnumerateFiles("*" + SnapshotName.Extension)
            .Select(f => SnapshotName.TryParse(f.Name, out var name) ? (File: f, Name: name) : default)
            .Where(x => x.File is not null && (cluster is null || x.Name.Cluster == cluster))
            .OrderByDescending(x => x.Name.TakenAt)
            .Select(x => new StoredSnapshot(Target, x.Name, x.File.Length, x.File.FullName, x.File.LastWriteTimeUtc, withManifests ? ReadManifest(x.Name) : null))];
    }

    public SnapshotManifest? ReadManifest(SnapshotName name)
    {
        var path = Path.Combine(Directory, name.ManifestFileName);
        return File.Exists(path) ? SnapshotManifest.Parse(File.ReadAllBytes(path)) : null;
    }

    public Stream Open(SnapshotName name) =>
        new FileStream(PathOf(name), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public void Delete(SnapshotName name)
    {
        File.Delete(Path.Combine(Directory, name.ManifestFileName));
        File.Delete(PathOf(name));
    }

    /// <summary>Removes <c>*.part</c> files of ours left by a run that never finished (console killed, disk full).</summary>
    public IReadOnlyList<string> RemoveLeftovers()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        var removed = new List<string>();
        foreach (var file in new DirectoryInfo(Directory).EnumerateFiles("*" + SnapshotName.PartialExtension))
        {
            if (SnapshotName.IsPartial(file.Name) || SnapshotName.IsPartial(file.Name.Replace(SnapshotName.ManifestExtension + SnapshotName.PartialExtension, SnapshotName.PartialExtension, StringComparison.Ordinal)))
            {
                file.Delete();
                removed.Add(file.Name);
            }
        }

        return removed;
    }

    internal static async Task WriteAtomicallyAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var part = path + SnapshotName.PartialExtension;
        var stream = new FileStream(part, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }

        File.Move(part, path, overwrite: true);
        Fsync.DirectoryOf(path);
    }
}

/// <summary>One snapshot being written: a sink for the stream, then <see cref="CompleteAsync"/> or <see cref="Dispose"/> (which aborts).</summary>
public sealed class LocalSnapshotWriter : ISnapshotWriter, IDisposable
{
    private readonly LocalSnapshotStore _store;
    private readonly FileStream _file;
    private bool _completed;

    internal LocalSnapshotWriter(LocalSnapshotStore store, SnapshotName name)
    {
        _store = store;
        Name = name;
        PartialPath = Path.Combine(store.Directory, name.PartialFileName);
        FinalPath = store.PathOf(name);
        _file = new FileStream(PartialPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 20, FileOptions.Asynchronous);
    }

    public SnapshotName Name { get; }

    public string PartialPath { get; }

    public string FinalPath { get; }

    public string Location => FinalPath;

    public ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken) => _file.WriteAsync(chunk, cancellationToken);

    /// <summary>Makes the verified snapshot durable under its final name, then writes its manifest beside it.</summary>
    public async Task CompleteAsync(SnapshotManifest manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
        _file.Flush(flushToDisk: true);
        await _file.DisposeAsync().ConfigureAwait(false);
        if (File.Exists(FinalPath))
        {
            throw new IOException($"{FinalPath} already exists; refusing to overwrite a snapshot");
        }

        File.Move(PartialPath, FinalPath);
        Fsync.DirectoryOf(FinalPath);
        _completed = true;

        // The verified snapshot is in place: its manifest is written even if the console is stopping meanwhile.
        await LocalSnapshotStore.WriteAtomicallyAsync(Path.Combine(_store.Directory, Name.ManifestFileName), manifest.ToUtf8(), CancellationToken.None).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Aborts an unfinished write: the partial file is removed; a completed snapshot is left alone.</summary>
    public void Dispose()
    {
        _file.Dispose();
        if (!_completed)
        {
            File.Delete(PartialPath);
        }
    }
}
