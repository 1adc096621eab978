using System.Globalization;
using Console.Domain.Backups;
using Console.Domain.Configuration;
using Console.Domain.Restore;
using Console.Infrastructure.Sandbox;
using Console.Infrastructure.Sealing;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Restore;

/// <summary>
/// The one owner of the staging area (<c>DataDir/restore/&lt;session&gt;</c>): a chosen copy is fetched here, an
/// upload is received here (one at a time per restore, within the limit and the disk's free space), the staged file
/// is inspected here, and the whole directory goes when the restore ends.
/// </summary>
public sealed class RestoreStaging(SnapshotStores stores, SnapshotOpener opener, IOptions<ConsoleSettings> settings, ILogger<RestoreStaging> logger)
{
    public const string UploadTarget = "upload";
    private readonly Lock _lock = new();
    private readonly HashSet<long> _uploading = [];

    public long MaxUploadBytes => settings.Value.Restore.MaxUploadBytes;

    public bool IsKnownTarget(string target) => target == UploadTarget || stores.Find(target) is not null;

    public string DirOf(RestoreSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return Path.Combine(Path.GetFullPath(settings.Value.DataDir), "restore", session.Id.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The host that staged a file, recorded with the session (<see cref="RestoreSession.StagedOn"/>).</summary>
    public static string ThisHost => Environment.MachineName;

    /// <summary>
    /// Why a step that reads the staged snapshot cannot run on this console: the session is shared by every replica, but
    /// the file is on the disk of the one that staged it. Null when the file is here (or nothing is staged yet).
    /// </summary>
    public static string? WhyNotHere(RestoreSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return session.StagedPath is { } path && !File.Exists(path)
            ? $"nothing was done: the staged snapshot {Path.GetFileName(path)} is on the disk of the console that staged it ({session.StagedOn ?? "another host"}, {path}), "
              + $"not on this one ({ThisHost}). Continue this restore on that console, or abandon it and choose the snapshot again here."
            : null;
    }

    /// <summary>Why an upload of <paramref name="declaredBytes"/> cannot start now, or null after reserving its slot (release it with <see cref="ReleaseUpload"/>).</summary>
    public (UploadOutcome Outcome, string Message) ReserveUpload(RestoreSession session, long? declaredBytes)
    {
        var staging = Directory.CreateDirectory(DirOf(session)).FullName;
        var free = new DriveInfo(staging).AvailableFreeSpace;
        var max = MaxUploadBytes;
        lock (_lock)
        {
            var answer = declaredBytes switch
            {
                _ when _uploading.Contains(session.Id) => (UploadOutcome.AlreadyUploading, "another upload for this restore is still running; wait for it (a finished upload replaces the earlier one)"),
                > 0 when declaredBytes > max + SnapshotUpload.FormOverhead => (UploadOutcome.TooLarge, $"the upload is {declaredBytes:N0} bytes, more than Console:Restore:MaxUploadBytes ({max:N0})"),
                > 0 when declaredBytes > free => (UploadOutcome.NoSpace, $"the upload is {declaredBytes:N0} bytes but {staging} has only {free:N0} bytes free"),
                _ => (UploadOutcome.Accepted, $"receiving an upload{(declaredBytes is > 0 ? $" of {declaredBytes:N0} bytes" : string.Empty)}"),
            };
            if (answer.Item1 == UploadOutcome.Accepted)
            {
                _uploading.Add(session.Id);
            }

            return answer;
        }
    }

    public void ReleaseUpload(long sessionId)
    {
        lock (_lock)
        {
            _uploading.Remove(sessionId);
        }
    }

    /// <summary>
    /// Puts a received upload in place as the session's snapshot and deletes an earlier upload's file, so a session never
    /// holds more than one. Returns the staged path and the replaced file's name (if any).
    /// </summary>
    public (string Staged, string? Replaced) PlaceUpload(RestoreSession session, string partPath, SnapshotName name)
    {
        ArgumentNullException.ThrowIfNull(session);
        var staged = Path.Combine(DirOf(session), name.FileName);
        File.Move(partPath, staged, overwrite: true);
        var replaced = session.SnapshotTarget == UploadTarget && session.StagedPath is { } earlier && earlier != staged && File.Exists(earlier) ? earlier : null;
        if (replaced is not null)
        {
            File.Delete(replaced);
        }

        return (staged, replaced is null ? null : Path.GetFileName(replaced));
    }

    /// <summary>Where a point-in-time build writes the session's restore source (the staging dir is created).</summary>
    public string PointInTimePath(RestoreSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var target = session.PointInTime ?? throw new InvalidOperationException("the restore has no point in time chosen");
        var label = target.Revision is { } r
            ? string.Create(CultureInfo.InvariantCulture, $"r{r}")
            : target.Time!.Value.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        return Path.Combine(Directory.CreateDirectory(DirOf(session)).FullName, $"{session.Cluster}_point-in-time_{label}.db");
    }

    /// <summary>The chosen copy in staging: an upload is already there; a stored copy is fetched.</summary>
    /// <param name="identities">age identities given for this restore (never stored), tried before the configured ones.</param>
    public async Task<string> StageAsync(RestoreSession session, IReadOnlyList<AgeIdentity>? identities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        Directory.CreateDirectory(DirOf(session));
        if (session.SnapshotTarget == UploadTarget && session.StagedPath is { } uploaded)
        {
            return uploaded;
        }

        if (!SnapshotName.TryParse(session.SnapshotFile!, out var name))
        {
            throw new ArgumentException($"'{session.SnapshotFile}' is not a snapshot name");
        }

        var staged = Path.Combine(DirOf(session), name.RawFileName);
        await FetchRawAsync(stores.Get(session.SnapshotTarget!), name, staged, identities, cancellationToken).ConfigureAwait(false);
        return staged;
    }

    /// <summary>
    /// Fetches <paramref name="name"/> from <paramref name="store"/> to <paramref name="destination"/> as the raw .db
    /// that etcdutl restores (a point-in-time build fetches its base snapshot the same way). Nothing is left at
    /// <paramref name="destination"/> when it fails.
    /// </summary>
    public async Task FetchRawAsync(ISnapshotStore store, SnapshotName name, string destination, IReadOnlyList<AgeIdentity>? identities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);

        // A sealed copy is opened on the way in (age, then zstd): what is staged is always the raw .db that etcdutl
        // restores. Every age chunk is authenticated and the stored bytes are checked against the manifest here, so a
        // tampered or truncated copy is refused before any destructive step.
        var manifest = name.Codec == SnapshotCodec.None ? null : await store.ReadManifestAsync(name, cancellationToken).ConfigureAwait(false);
        var source = await store.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
        try
        {
            var opened = await opener.OpenAsync(source, name, manifest, identities, cancellationToken).ConfigureAwait(false);
            await using (opened.ConfigureAwait(false))
            {
                var file = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
                await using (file.ConfigureAwait(false))
                {
                    await opened.Raw.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                }

                var copy = await opened.FinishAsync(cancellationToken).ConfigureAwait(false);
                if (manifest?.StoredSha256 is { } expected && !string.Equals(copy.StoredSha256, expected, StringComparison.Ordinal))
                {
                    throw new Etcd.SnapshotIntegrityException($"the stored bytes of {name.FileName} (sha256 {copy.StoredSha256}) differ from its manifest's {expected}: the copy was altered or truncated in the store");
                }
            }
        }
        catch
        {
            Discard(destination);
            throw;
        }
    }

    /// <summary>Footer and size, then one real restore into a throwaway etcd (see <see cref="SnapshotInspector"/>).</summary>
    public async Task<(SnapshotContents Contents, RestoreTool Tool)> InspectAsync(string staged, CancellationToken cancellationToken)
    {
        var tool = DetectTool();
        var contents = await SnapshotInspector.InspectAsync(staged, settings.Value.Sandbox.EtcdBinary, tool.Name, settings.Value.Restore.InspectTimeout, logger, cancellationToken).ConfigureAwait(false);
        return (contents, tool);
    }

    public static void Discard(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The staging dir goes when the session ends.
        }
    }

    public void Clean(RestoreSession session)
    {
        try
        {
            var staging = DirOf(session);
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
        catch (IOException)
        {
            // Only staging copies of a snapshot; they will be removed by hand or next time.
        }
    }

    /// <summary>etcdutl where installed (3.5+), else etcdctl; its version decides the revision bump.</summary>
    internal static RestoreTool DetectTool()
    {
        foreach (var name in new[] { "etcdutl", "etcdctl" })
        {
            if (EtcdBinary.Find(name) is null)
            {
                continue;
            }

            var info = new System.Diagnostics.ProcessStartInfo(name, "version") { RedirectStandardOutput = true, UseShellExecute = false };
            info.Environment["ETCDCTL_API"] = "3";
            using var process = System.Diagnostics.Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (RestoreTool.Parse(name, output) is { } tool)
            {
                return tool;
            }
        }

        throw new IOException("neither etcdutl nor etcdctl was found to restore with; " + EtcdBinary.InstallHint);
    }
}
