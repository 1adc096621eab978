using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Access;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Sealing;

namespace Console.Infrastructure.Storage;

/// <summary>One copy of a snapshot in one target, with its latest verification and its latest restore drill (null: never drilled).</summary>
public sealed record SnapshotCopy(string Target, long SizeBytes, string Location, DateTimeOffset? StoredAt, Verification? LastVerification, DrillVerdict? LastDrill = null)
{
    /// <summary>Why a restore should not take this copy unless the operator insists: its latest drill or its latest verification failed.</summary>
    public string? Failure =>
        LastDrill is { Outcome: DrillOutcome.Failed } drill ? $"its last restore drill failed: {drill.Reason}"
        : LastVerification is { Ok: false } verification ? $"its last verification failed: {verification.Detail}"
        : null;

    /// <summary>A drill of this copy finished (passed or failed); a Running one does not count yet.</summary>
    public bool Drilled => LastDrill is { Outcome: DrillOutcome.Passed or DrillOutcome.Failed };
}

/// <summary>A snapshot as the browser shows it: every copy across targets, what its manifests say, and whether it is protected.</summary>
public sealed record SnapshotEntry(SnapshotName Name, IReadOnlyList<SnapshotCopy> Copies, SnapshotManifest? Manifest, bool Protected)
{
    public long? Revision => Manifest?.Revision;

    /// <summary>The copy a restore should take: one whose drill and verification did not fail, the local one first (nothing to fetch); null when every copy failed.</summary>
    public SnapshotCopy? SoundCopy => LocalFirst.FirstOrDefault(c => c.Failure is null);

    /// <summary>The copy a restore takes: the sound one, else (the operator chose a failed snapshot deliberately) the local one first.</summary>
    public SnapshotCopy RestoreCopy => SoundCopy ?? LocalFirst.First();

    private IEnumerable<SnapshotCopy> LocalFirst => Copies.OrderBy(c => c.Target == "local" ? 0 : 1);
}

/// <summary>Browses, verifies, protects and downloads snapshots in every store, and rebuilds history from their manifests.</summary>
public sealed class SnapshotCatalog(SnapshotStores stores, SnapshotLedger ledger, DrillLedger drills, BackupRecordStore records, TimeProvider clock, AccessGuard guard, SnapshotOpener opener, SealingKeys keys)
{
    public async Task<IReadOnlyList<SnapshotEntry>> ListAsync(ClusterName? cluster, CancellationToken cancellationToken)
    {
        IReadOnlyList<StoredSnapshot>[] listed;
        try
        {
            listed = await Task.WhenAll(stores.All.Select(s => s.ListAsync(cluster, withManifests: true, cancellationToken))).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageErrors.IsStorageFailure(ex) && ex is not IOException && !cancellationToken.IsCancellationRequested)
        {
            // Callers outside Storage see one kind of failure, in words, whichever store it was.
            throw new IOException(StorageErrors.Describe(ex), ex);
        }

        var verifications = await ledger.LatestVerificationsAsync(cancellationToken).ConfigureAwait(false);
        var verdicts = await drills.LatestByCopyAsync(cluster?.Value, cancellationToken).ConfigureAwait(false);
        var protectedNames = await ledger.ProtectedAsync(clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return [.. listed.SelectMany(x => x)
            .GroupBy(s => s.Name)
            .OrderByDescending(g => g.Key.TakenAt)
            .Select(g => new SnapshotEntry(
                g.Key,
                [.. g.OrderBy(s => s.Target, StringComparer.Ordinal).Select(s => new SnapshotCopy(s.Target, s.SizeBytes, s.Location, s.StoredAt, verifications.GetValueOrDefault((g.Key.FileName, s.Target)), verdicts.GetValueOrDefault((g.Key.FileName, s.Target))))],
                g.Select(s => s.Manifest).FirstOrDefault(m => m is not null),
                protectedNames.Contains(g.Key.FileName)))];
    }

    /// <summary>
    /// Re-reads one copy end to end: the footer must match the content, and the content must match the manifest's
    /// sha256 (a snapshot replaced by another valid one is caught too). The result is recorded. Needs Operator.
    /// </summary>
    public Task<Verification> VerifyAsync(string target, SnapshotName name, Actor by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(by);
        return guard.AuditedAsync(
            by,
            Role.Operator,
            AuditActions.Verify,
            name.Cluster.Value,
            $"{target}/{name.FileName}",
            () => VerifyCoreAsync(target, name, by.Label, cancellationToken),
            v => (v.Ok ? AuditOutcome.Succeeded : AuditOutcome.Failed, v.Detail),
            cancellationToken);
    }

    /// <summary>What the periodic re-verification records as <see cref="Verification.VerifiedBy"/>.</summary>
    public const string ReverificationBy = "re-verification";

    /// <summary>
    /// The periodic re-verification of one copy: the same reading and comparison as Verify, recorded with
    /// <see cref="ReverificationBy"/>. No actor: the console checks its own copies on a schedule.
    /// </summary>
    public Task<Verification> ReverifyAsync(string target, SnapshotName name, CancellationToken cancellationToken) =>
        VerifyCoreAsync(target, name, ReverificationBy, cancellationToken);

    private async Task<Verification> VerifyCoreAsync(string target, SnapshotName name, string by, CancellationToken cancellationToken)
    {
        var store = stores.Get(target);
        bool ok;
        string detail;
        try
        {
            var manifest = await store.ReadManifestAsync(name, cancellationToken).ConfigureAwait(false);
            var stream = await store.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
            (ok, detail) = name.Codec == SnapshotCodec.None
                ? await VerifyRawAsync(stream, manifest, cancellationToken).ConfigureAwait(false)
                : await VerifySealedAsync(stream, name, manifest, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SnapshotIntegrityException or SealedCopyException or AgeException or ZstdSharp.ZstdException)
        {
            (ok, detail) = (false, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or Amazon.Runtime.AmazonServiceException or HttpRequestException or TimeoutException or UnauthorizedAccessException)
        {
            (ok, detail) = (false, $"could not read the copy: {ex.Message}");
        }

        var verification = new Verification(name.FileName, target, clock.GetUtcNow(), ok, detail, by);
        await ledger.RecordVerificationAsync(verification, cancellationToken).ConfigureAwait(false);
        return verification;
    }

    private static async Task<(bool Ok, string Detail)> VerifyRawAsync(Stream stream, SnapshotManifest? manifest, CancellationToken cancellationToken)
    {
        await using (stream.ConfigureAwait(false))
        {
            var sha = await VerifyStreamAsync(stream, cancellationToken).ConfigureAwait(false);
            return CompareRaw(sha, manifest);
        }
    }

    private static (bool Ok, string Detail) CompareRaw(string sha, SnapshotManifest? manifest) =>
        manifest is null ? (true, $"footer sha256 {sha} matches the content; no manifest to compare with")
        : string.Equals(manifest.Sha256, sha, StringComparison.Ordinal) ? (true, $"sha256 {sha} matches the footer and the manifest")
        : (false, $"the content's sha256 {sha} is valid but differs from the manifest's {manifest.Sha256}: this is not the snapshot that was recorded");

    /// <summary>
    /// A sealed copy: opened when it can be (every age chunk authenticated, zstd's checksum, the etcd footer, the
    /// manifest's raw sha256), and its stored bytes compared with the manifest's stored sha256 either way. An age copy
    /// with no identity configured is verified by the stored sha256 alone, and the detail says so.
    /// </summary>
    private async Task<(bool Ok, string Detail)> VerifySealedAsync(Stream stream, SnapshotName name, SnapshotManifest? manifest, CancellationToken cancellationToken)
    {
        if (name.Codec.HasFlag(SnapshotCodec.Age) && !keys.HasIdentities)
        {
            var hashed = new HashingStream(stream);
            await using (hashed.ConfigureAwait(false))
            {
                await hashed.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                return manifest?.StoredSha256 is not { } expected
                    ? (false, $"cannot verify {name.FileName}: it is encrypted, no identity is configured to open it (Console:Encryption:IdentityFiles) and no manifest records its stored sha256")
                    : CompareStored(hashed.Sha256(), expected) is { } mismatch ? (false, mismatch)
                    : (true, $"stored sha256 {expected} matches the manifest; not opened (no identity configured), so the etcd footer inside was not checked");
            }
        }

        var opened = await opener.OpenAsync(stream, name, manifest, null, cancellationToken).ConfigureAwait(false);
        await using (opened.ConfigureAwait(false))
        {
            var sha = await VerifyStreamAsync(opened.Raw, cancellationToken).ConfigureAwait(false);
            var copy = await opened.FinishAsync(cancellationToken).ConfigureAwait(false);
            if (manifest?.StoredSha256 is { } expected && CompareStored(copy.StoredSha256, expected) is { } mismatch)
            {
                return (false, mismatch);
            }

            var (ok, detail) = CompareRaw(sha, manifest);
            return (ok, ok ? $"{detail}; opened {name.Codec.Describe()} ({copy.StoredSizeBytes:N0} bytes stored)" : detail);
        }
    }

    private static string? CompareStored(string actual, string expected) =>
        string.Equals(actual, expected, StringComparison.Ordinal) ? null
        : $"the stored bytes' sha256 {actual} differs from the manifest's {expected}: the copy was altered or truncated in the store";

    public static Task<string> VerifyStreamAsync(Stream stream, CancellationToken cancellationToken) =>
        SnapshotVerifier.VerifyStreamAsync(stream, null, cancellationToken);

    /// <summary>Keeps the snapshot out of retention until unprotected. Needs Operator.</summary>
    public Task ProtectAsync(SnapshotName name, Actor by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(by);
        return guard.AuditedAsync(by, Role.Operator, AuditActions.Protect, name.Cluster.Value, name.FileName, () => ledger.ProtectAsync(name.FileName, name.Cluster.Value, by.Label, clock.GetUtcNow(), null, cancellationToken), null, cancellationToken);
    }

    public Task UnprotectAsync(SnapshotName name, Actor by, CancellationToken cancellationToken)
    {
        return guard.AuditedAsync(by, Role.Operator, AuditActions.Unprotect, name.Cluster.Value, name.FileName, () => ledger.UnprotectAsync(name.FileName, cancellationToken), null, cancellationToken);
    }

    /// <summary>
    /// Opens one copy for a download (Operator), audited; the caller streams and disposes it. As stored (a sealed copy
    /// stays sealed: the safest thing to carry around), or with <paramref name="opened"/> the raw <c>.db</c> inside.
    /// </summary>
    public Task<Stream> OpenForDownloadAsync(string target, SnapshotName name, bool opened, Actor by, CancellationToken cancellationToken)
    {
        return guard.AuditedAsync(by, Role.Operator, AuditActions.Download, name.Cluster.Value, $"{target}/{name.FileName}{(opened && name.Codec != SnapshotCodec.None ? " (opened)" : "")}", () => OpenCopyAsync(target, name, opened, cancellationToken), _ => (AuditOutcome.Succeeded, null), cancellationToken);
    }

    private async Task<Stream> OpenCopyAsync(string target, SnapshotName name, bool opened, CancellationToken cancellationToken)
    {
        var store = stores.Get(target);
        var stream = await store.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
        if (!opened || name.Codec == SnapshotCodec.None)
        {
            return stream;
        }

        var manifest = await store.ReadManifestAsync(name, cancellationToken).ConfigureAwait(false);
        return (await opener.OpenAsync(stream, name, manifest, null, cancellationToken).ConfigureAwait(false)).Raw;
    }

    /// <summary>Adds a record for every snapshot with a manifest that the database does not know (Operator). Returns how many.</summary>
    public Task<int> RebuildHistoryAsync(Actor by, CancellationToken cancellationToken) =>
        guard.AuditedAsync(by, Role.Operator, AuditActions.RebuildHistory, null, null, () => RebuildHistoryCoreAsync(cancellationToken), added => (AuditOutcome.Succeeded, $"{added} record(s) added"), cancellationToken);

    private async Task<int> RebuildHistoryCoreAsync(CancellationToken cancellationToken)
    {
        var known = await records.KnownFileNamesAsync(cancellationToken).ConfigureAwait(false);
        var added = 0;
        foreach (var entry in await ListAsync(null, cancellationToken).ConfigureAwait(false))
        {
            if (known.Contains(entry.Name.FileName) || entry.Manifest is not { } m)
            {
                continue;
            }

            await records.InsertFinishedAsync(
                new BackupRecord
                {
                    Cluster = m.Cluster,
                    Trigger = Enum.TryParse<BackupTrigger>(m.Trigger, out var trigger) ? trigger : BackupTrigger.Manual,
                    RequestedBy = $"{m.RequestedBy ?? "unknown"} (rebuilt from store)",
                    Status = BackupStatus.Succeeded,
                    StartedAt = m.StartedAt,
                    FinishedAt = m.FinishedAt,
                    Member = m.Member,
                    FileName = m.FileName,
                    Location = string.Join('\n', entry.Copies.Select(c => c.Location)),
                    Targets = string.Join('+', entry.Copies.Select(c => c.Target)),
                    SizeBytes = m.SizeBytes,
                    Sha256 = m.Sha256,
                    Revision = m.Revision,
                    RaftIndex = m.RaftIndex,
                    EtcdVersion = m.EtcdVersion,
                    RetentionNote = "rebuilt from the store's manifest",
                },
                cancellationToken).ConfigureAwait(false);
            added++;
        }

        return added;
    }
}
