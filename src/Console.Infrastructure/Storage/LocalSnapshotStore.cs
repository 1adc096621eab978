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
/// regular files whose names parse as ours are ever listed, opened or deleted: symbolic links, fifos and other special
/// files are skipped, refused when opened, and never deleted (decision record 0009).
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

    /// <summary>The folder of delta segments, beside the snapshots (ADR 0029).</summary>
    public string SegmentDirectory => Path.Combine(Directory, DeltaSegmentName.Folder);

    public string PathOf(DeltaSegmentName name) => Path.Combine(SegmentDirectory, name.FileName);

    public string LocationOf(DeltaSegmentName name) => PathOf(name);

    public async Task WriteSegmentAsync(DeltaSegmentName name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(SegmentDirectory);
        await WriteAtomicallyAsync(PathOf(name), content, cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<StoredSegment>> ListSegmentsAsync(ClusterName cluster, CancellationToken cancellationToken)
    {
        if (!System.IO.Directory.Exists(SegmentDirectory))
        {
            return Task.FromResult<IReadOnlyList<StoredSegment>>([]);
        }

        IReadOnlyList<StoredSegment> found = [.. new DirectoryInfo(SegmentDirectory).EnumerateFiles("*" + DeltaSegmentName.Extension + "*")
            .Select(f => DeltaSegmentName.TryParse(f.Name, out var name) ? (File: f, Name: name) : default)
            .Where(x => x.File is not null && x.Name.Cluster == cluster && RegularFile.Is(x.File.FullName))
            .OrderBy(x => x.Name.FirstRevision)
            .Select(x => new StoredSegment(Target, x.Name, x.File.Length, x.File.FullName))];
        return Task.FromResult(found);
    }

    public Task<Stream> OpenSegmentAsync(DeltaSegmentName name, CancellationToken cancellationToken) => Task.FromResult<Stream>(RegularFile.OpenRead(PathOf(name)));

    public Task DeleteSegmentAsync(DeltaSegmentName name, CancellationToken cancellationToken)
    {
        if (RegularFile.KindOf(PathOf(name)) == RegularFile.FileKind.Other)
        {
            throw new IOException($"{PathOf(name)} is not a regular file (a symbolic link, fifo, device or directory); it is left alone");
        }

        RegularFile.Delete(PathOf(name));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Writes, fsyncs and deletes a small file in the snapshot directory, and reads the free space there. The probe is
    /// removed however the write ends: on a full disk the file is created and then its write fails.
    /// </summary>
    public async Task<StorageHealth> CheckHealthAsync(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var probe = Path.Combine(Directory, $".health-{Guid.NewGuid():N}");
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            try
            {
                var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                await using (stream.ConfigureAwait(false))
                {
                    await stream.WriteAsync("ok"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                    stream.Flush(flushToDisk: true);
                }
            }
            finally
            {
                File.Delete(probe);
            }

            return new StorageHealth(Target, true, $"{Directory} is writable", FreeBytes(), now);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new StorageHealth(Target, false, $"{Directory} is not writable: {ex.Message}", FreeBytes(), now);
        }
    }

    private long? FreeBytes()
    {
        try
        {
            return new DriveInfo(Directory).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
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

        return [.. new DirectoryInfo(Directory).EnumerateFiles("*" + SnapshotName.Extension + "*")
            .Select(f => SnapshotName.TryParse(f.Name, out var name) ? (File: f, Name: name) : default)
            .Where(x => x.File is not null && (cluster is null || x.Name.Cluster == cluster) && RegularFile.Is(x.File.FullName))
            .OrderByDescending(x => x.Name.TakenAt)
            .Select(x => new StoredSnapshot(Target, x.Name, x.File.Length, x.File.FullName, x.File.LastWriteTimeUtc, withManifests ? ReadManifest(x.Name) : null))];
    }

    /// <summary>The manifest beside a snapshot; null when there is none, it does not parse, or it is not a regular file.</summary>
    public SnapshotManifest? ReadManifest(SnapshotName name)
    {
        var path = Path.Combine(Directory, name.ManifestFileName);
        if (!RegularFile.Is(path))
        {
            return null;
        }

        try
        {
            using var stream = RegularFile.OpenRead(path, 1 << 12);
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return SnapshotManifest.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
        catch (IOException)
        {
            // Swapped for a link or removed since the check: as good as no manifest.
            return null;
        }
    }

    /// <summary>Opens a snapshot for reading (download, verify, restore, upload retry): a regular file only, never through a link.</summary>
    public Stream Open(SnapshotName name) => RegularFile.OpenRead(PathOf(name));

    /// <summary>Deletes a snapshot and its manifest; a link or special file at either name is refused and left in place.</summary>
    public void Delete(SnapshotName name)
    {
        if (RegularFile.KindOf(PathOf(name)) == RegularFile.FileKind.Other)
        {
            throw new IOException($"{PathOf(name)} is not a regular file (a symbolic link, fifo, device or directory); it is left alone");
        }

        RegularFile.Delete(Path.Combine(Directory, name.ManifestFileName));
        RegularFile.Delete(PathOf(name));
    }

    /// <summary>
    /// Removes <c>*.part</c> files of ours left by a run that never finished (console killed, disk full). A part some
    /// live process is still writing (another replica on a shared directory) is in use and left alone.
    /// </summary>
    public IReadOnlyList<string> RemoveLeftovers()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        var removed = new List<string>();
        foreach (var file in new DirectoryInfo(Directory).EnumerateFiles("*" + SnapshotName.PartialExtension))
        {
            var ours = SnapshotName.IsPartial(file.Name) || SnapshotName.IsPartial(file.Name.Replace(SnapshotName.ManifestExtension + SnapshotName.PartialExtension, SnapshotName.PartialExtension, StringComparison.Ordinal));
            if (ours && RegularFile.Is(file.FullName) && !RegularFile.IsInUse(file.FullName))
            {
                file.Delete();
                removed.Add(file.Name);
            }
        }

        // Delta segments left half-written by a crash (their .part never became the final name).
        if (System.IO.Directory.Exists(SegmentDirectory))
        {
            foreach (var file in new DirectoryInfo(SegmentDirectory).EnumerateFiles("*" + SnapshotName.PartialExtension))
            {
                if (DeltaSegmentName.TryParse(file.Name[..^SnapshotName.PartialExtension.Length], out _) && RegularFile.Is(file.FullName) && !RegularFile.IsInUse(file.FullName))
                {
                    file.Delete();
                    removed.Add(Path.Combine(DeltaSegmentName.Folder, file.Name));
                }
            }
        }

        return removed;
    }

    internal static async Task WriteAtomicallyAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var part = path + SnapshotName.PartialExtension;

        // A leftover (or a planted link) at the .part name is removed, not written through: CreateNew never follows one.
        File.Delete(part);
        try
        {
            var stream = new FileStream(part, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(part, path, overwrite: true);
        }
        catch
        {
            // A full disk fails the write (or the close): leave no .part behind.
            File.Delete(part);
            throw;
        }

        Fsync.DirectoryOf(path);
    }
}

/// <summary>One snapshot being written: a sink for the stream, then <see cref="CompleteAsync"/> or <see cref="Dispose"/> (which aborts).</summary>
public sealed class LocalSnapshotWriter : ISnapshotWriter, IDisposable
{
    private readonly LocalSnapshotStore _store;
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _handle;
    private readonly FileStream _file;
    private const long WritebackEvery = 8 << 20;
    private long _written;
    private long _writebackAt = WritebackEvery;
    private bool _completed;
    private bool _disposed;

    internal LocalSnapshotWriter(LocalSnapshotStore store, SnapshotName name)
    {
        _store = store;
        Name = name;
        PartialPath = Path.Combine(store.Directory, name.PartialFileName);
        FinalPath = store.PathOf(name);
        // The handle is kept apart from the stream so it can be closed even when the stream's own close fails.
        _handle = File.OpenHandle(PartialPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, FileOptions.Asynchronous);
        RegularFile.MarkInUse(_handle);
        _file = new FileStream(_handle, FileAccess.Write, 1 << 20, isAsync: true);
    }

    public SnapshotName Name { get; }

    public string PartialPath { get; }

    public string FinalPath { get; }

    public string Location => FinalPath;

    public ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        // Every few MiB, start the disk writing what has been written so far, so it overlaps the stream instead of
        // all of it waiting for the fsync in CompleteAsync (measured: that wait was most of a run's time outside the stream).
        _written += chunk.Length;
        if (_written >= _writebackAt)
        {
            _writebackAt = _written + WritebackEvery;
            Fsync.StartWriteback(_handle);
        }

        return _file.WriteAsync(chunk, cancellationToken);
    }

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
        try
        {
            Fsync.DirectoryOf(FinalPath);

            // The verified snapshot is in place: its manifest is written even if the console is stopping meanwhile.
            await LocalSnapshotStore.WriteAtomicallyAsync(Path.Combine(_store.Directory, Name.ManifestFileName), manifest.ToUtf8(), CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            // No manifest (the disk filled up after the snapshot): the copy is not complete, so nothing stays at its final
            // name; retention would never count or delete a snapshot without a manifest.
            File.Delete(FinalPath);
            throw;
        }

        _completed = true;
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Aborts an unfinished write: the partial file is removed; a completed snapshot is left alone. On a full disk the
    /// stream's close fails while flushing its buffer; the file is removed all the same, which frees the space.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _file.Dispose();
        }
        catch (IOException) when (!_completed)
        {
            // The buffered tail of a write being abandoned could not be flushed: nothing to keep.
        }
        finally
        {
            _handle.Dispose();
            if (!_completed)
            {
                File.Delete(PartialPath);
            }
        }
    }
}
