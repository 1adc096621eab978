using Console.Domain.Backups;
using Console.Domain.Configuration;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Backups;

/// <summary>
/// Uploads, from the local copy, every snapshot whose upload failed while the local write succeeded, until it
/// succeeds. The bytes are re-verified against the footer on the way, and the record becomes Succeeded once every
/// target has its copy.
/// </summary>
public sealed partial class UploadRetryService(
    SnapshotStores stores,
    SnapshotLedger ledger,
    BackupRecordStore records,
    BackupProgressFeed feed,
    IOptions<ConsoleSettings> settings,
    TimeProvider clock,
    ILogger<UploadRetryService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.Value.Storage.S3.RetryInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await RetryPendingAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // One failed pass (the database busy, say) must not stop the console; the next tick tries again.
                LogPassFailed(logger, ex);
            }
        }
    }

    /// <summary>Tries every pending upload once. Returns how many succeeded.</summary>
    public async Task<int> RetryPendingAsync(CancellationToken cancellationToken)
    {
        var uploaded = 0;
        foreach (var pending in await ledger.PendingUploadsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await RetryAsync(pending, cancellationToken).ConfigureAwait(false))
            {
                uploaded++;
            }
        }

        return uploaded;
    }

    private async Task<bool> RetryAsync(PendingUpload pending, CancellationToken cancellationToken)
    {
        if (!SnapshotName.TryParse(pending.FileName, out var name) || stores.Find(pending.Target) is not { } target || stores.Find("local") is not { } local)
        {
            await ledger.SaveCopyAsync(new BackupCopy(pending.BackupId, pending.Target, CopyStatus.Failed, null, $"{pending.Target}: the target is no longer configured; not retried", pending.Attempts), clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            return false;
        }

        try
        {
            var manifest = await local.ReadManifestAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw new IOException($"the local manifest of {name} is missing");
            string location;
            var source = await local.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                var writer = await target.BeginWriteAsync(name, cancellationToken).ConfigureAwait(false);
                await using (writer.ConfigureAwait(false))
                {
                    // A raw copy is checked by its etcd footer; a sealed one (which needs no identity to upload) by the
                    // sha256 of its stored bytes, both against the manifest, before the upload is completed.
                    var (sha, expected) = name.Codec == SnapshotCodec.None
                        ? (await SnapshotVerifier.VerifyStreamAsync(source, writer, cancellationToken).ConfigureAwait(false), manifest.Sha256)
                        : (await CopyHashedAsync(source, writer, cancellationToken).ConfigureAwait(false), manifest.StoredSha256 ?? throw new SnapshotIntegrityException($"the local manifest of {name} does not record the sealed copy's sha256"));
                    if (!string.Equals(sha, expected, StringComparison.Ordinal))
                    {
                        throw new SnapshotIntegrityException($"the local copy's sha256 {sha} differs from its manifest's {expected}");
                    }

                    await writer.CompleteAsync(manifest, cancellationToken).ConfigureAwait(false);
                    location = writer.Location;
                }
            }

            var now = clock.GetUtcNow();
            await ledger.SaveCopyAsync(new BackupCopy(pending.BackupId, pending.Target, CopyStatus.Stored, location, null, pending.Attempts + 1), now, cancellationToken).ConfigureAwait(false);
            if (await records.GetAsync(pending.BackupId, cancellationToken).ConfigureAwait(false) is { } record)
            {
                var copies = await ledger.CopiesAsync(pending.BackupId, cancellationToken).ConfigureAwait(false);
                var complete = copies.All(c => c.Status == CopyStatus.Stored);
                var updated = record with
                {
                    Status = complete ? BackupStatus.Succeeded : record.Status,
                    Error = complete ? null : record.Error,
                    Location = string.Join('\n', copies.Where(c => c.Location is not null).Select(c => c.Location)),
                    RetentionNote = $"{record.RetentionNote}; {pending.Target} copy uploaded from the local copy at {now:u} (attempt {pending.Attempts + 1})".TrimStart(';', ' '),
                };
                await records.UpdateAsync(updated, cancellationToken).ConfigureAwait(false);
                feed.Publish(BackupProgress.Of(updated, now));
            }

            LogUploaded(logger, pending.FileName, pending.Target, pending.Attempts + 1);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A local copy that is gone or corrupt cannot be uploaded, ever: stop retrying (and so let retention have it).
            var gone = ex is FileNotFoundException or SnapshotIntegrityException;
            await ledger.SaveCopyAsync(
                new BackupCopy(pending.BackupId, pending.Target, gone ? CopyStatus.Failed : CopyStatus.Pending, null, $"{pending.Target}: {StorageErrors.Describe(ex)}", pending.Attempts + 1),
                clock.GetUtcNow(),
                cancellationToken).ConfigureAwait(false);
            LogRetryFailed(logger, pending.FileName, pending.Target, StorageErrors.Describe(ex));
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A pass of the upload retry failed")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Uploaded {FileName} to {Target} from the local copy (attempt {Attempt})")]
    private static partial void LogUploaded(ILogger logger, string fileName, string target, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retrying the upload of {FileName} to {Target} failed: {Error}")]
    private static partial void LogRetryFailed(ILogger logger, string fileName, string target, string error);

    private static async Task<string> CopyHashedAsync(Stream source, ISnapshotWriter writer, CancellationToken cancellationToken)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
