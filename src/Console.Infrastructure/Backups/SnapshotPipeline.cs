using Console.Domain.Backups;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sealing;
using Console.Infrastructure.Storage;

namespace Console.Infrastructure.Backups;

/// <summary>What one snapshot is to be: which member it comes from, its name, and the targets it goes to.</summary>
/// <param name="Manifest">Builds the manifest once the stream is verified (its result and the time it finished).</param>
/// <param name="Sealing">How the copies are compressed and encrypted; its codec must be the one <paramref name="Name"/> says.</param>
public sealed record SnapshotJob(
    EtcdClusterClient Client,
    Uri Member,
    SnapshotName Name,
    IReadOnlyList<string> Targets,
    SnapshotOptions Options,
    Func<SnapshotResult, DateTimeOffset, SnapshotManifest> Manifest,
    SnapshotSealing? Sealing = null);

/// <summary>
/// A snapshot that at least one target stored: the verified stream's result, each storing target's location, each
/// failed target's error (already phrased for an operator), and when the stream finished.
/// </summary>
public sealed record SnapshotPipelineResult(
    SnapshotResult Snapshot,
    IReadOnlyDictionary<string, string> Stored,
    IReadOnlyDictionary<string, string> Errors,
    DateTimeOffset FinishedAt);

/// <summary>
/// One snapshot from one member into every target: opens a writer per target, streams the member's snapshot through
/// the verifier (EtcdClusterClient.SnapshotAsync), the sealing layers if any (zstd, then age: <see cref="SealingSink"/>)
/// and a tee over the writers, then completes each writer with the manifest (atomic rename or multipart completion). A target that fails is dropped and the others go on; a writer
/// that did not complete aborts (partial file removed, upload aborted). Throws <see cref="BackupException"/> when no
/// target could be opened or none stored the snapshot. The backup runner and the benchmark both run snapshots through
/// here, so the benchmark measures the product's path.
/// </summary>
public sealed class SnapshotPipeline(SnapshotStores stores, TimeProvider clock)
{
    /// <param name="finalizing">Called once the stream is verified, before the writers complete (a phase change).</param>
    public async Task<SnapshotPipelineResult> RunAsync(SnapshotJob job, IProgress<SnapshotProgress>? progress, Action? finalizing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);

        // Open every target; one that cannot even start is recorded and the others go on.
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        var writers = new List<(string Target, ISnapshotWriter Writer)>(job.Targets.Count);
        foreach (var target in job.Targets)
        {
            try
            {
                writers.Add((target, await stores.Get(target).BeginWriteAsync(job.Name, cancellationToken).ConfigureAwait(false)));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                errors[target] = $"{target}: {StorageErrors.Describe(ex)}";
            }
        }

        var stored = new Dictionary<string, string>(StringComparer.Ordinal);
        SnapshotResult result;
        DateTimeOffset finishedAt;
        try
        {
            if (writers.Count == 0)
            {
                throw new BackupException($"no target could be opened: {string.Join("; ", errors.Values)}");
            }

            var tee = new TeeSink(writers, errors);
            var sealing = job.Sealing ?? SnapshotSealing.None;
            if (sealing.Codec != job.Name.Codec)
            {
                throw new ArgumentException($"the name {job.Name} does not say the codec the copies are sealed with ({sealing.Codec.Describe()})", nameof(job));
            }

            var manifestSealing = (SnapshotManifest m) => m;
            if (sealing.Codec == SnapshotCodec.None)
            {
                result = await job.Client.SnapshotAsync(job.Member, tee, progress, job.Options, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var recipients = sealing.Recipients.Select(r => AgeRecipient.TryParse(r, out var recipient, out var error) ? recipient : throw new BackupException(error)).ToList();
                var sealer = new SealingSink(sealing.Codec, sealing.Level, recipients, tee);
                await using (sealer.ConfigureAwait(false))
                {
                    result = await job.Client.SnapshotAsync(job.Member, sealer, progress, job.Options, cancellationToken).ConfigureAwait(false);
                    var sealedCopy = await sealer.CompleteAsync(cancellationToken).ConfigureAwait(false);
                    manifestSealing = m => m with
                    {
                        Codec = sealing.Codec.Describe(),
                        Recipients = recipients.Count == 0 ? null : [.. recipients.Select(r => new ManifestRecipient(r.Text, r.Fingerprint))],
                        StoredSha256 = sealedCopy.StoredSha256,
                        StoredSizeBytes = sealedCopy.StoredSizeBytes,
                    };
                }
            }

            finalizing?.Invoke();
            finishedAt = clock.GetUtcNow();
            var manifest = manifestSealing(job.Manifest(result, finishedAt));
            foreach (var (target, writer) in tee.Healthy.ToList())
            {
                try
                {
                    await writer.CompleteAsync(manifest, cancellationToken).ConfigureAwait(false);
                    stored[target] = writer.Location;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    tee.Fail(target, ex);
                }
            }
        }
        finally
        {
            // Completed writers keep their snapshot; the rest abort (partial file removed, multipart upload aborted).
            foreach (var (_, writer) in writers)
            {
                await writer.DisposeAsync().ConfigureAwait(false);
            }
        }

        return stored.Count == 0
            ? throw new BackupException($"the snapshot was taken but no target stored it: {string.Join("; ", errors.Values)}")
            : new SnapshotPipelineResult(result, stored, errors, finishedAt);
    }
}
