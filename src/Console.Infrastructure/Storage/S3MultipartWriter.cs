using System.Security.Cryptography;
using System.Threading.Channels;
using Amazon.S3.Model;
using Console.Domain.Backups;

namespace Console.Infrastructure.Storage;

/// <summary>
/// Streams a snapshot into an S3 multipart upload. Bytes fill part-sized buffers taken from a pool of
/// ParallelParts + 1, so at most that many parts are in memory or in flight whatever the snapshot's size; a writer
/// that gets ahead of the uploads waits for a buffer (backpressure). Each part is sent with its Content-MD5 and the
/// returned ETag is checked against it, so what S3 stored is what we sent. The first failed part cancels the others;
/// disposing without completing aborts the upload, so no object ever appears at the final key. Every byte is written
/// once: the sha256 goes into the manifest beside the object, not onto the object (no server-side copy).
/// </summary>
internal sealed class S3MultipartWriter : ISnapshotWriter
{
    private readonly S3SnapshotStore _store;
    private readonly string _key;
    private readonly string _uploadId;
    private readonly DateTimeOffset? _lockUntil;
    private readonly Channel<byte[]> _buffers;
    private readonly List<Task<PartETag>> _uploads = [];
    private readonly CancellationTokenSource _abort = new();
    private byte[]? _current;
    private int _filled;
    private int _nextPart = 1;
    private long _total;
    private Exception? _failure;
    private bool _completed;
    private CancellationTokenSource? _linked;

    /// <param name="lockUntil">The Object Lock retain-until date the upload was created with, for the manifest too.</param>
    public S3MultipartWriter(S3SnapshotStore store, string key, string uploadId, DateTimeOffset? lockUntil)
    {
        _store = store;
        _key = key;
        _uploadId = uploadId;
        _lockUntil = lockUntil;
        var count = store.ParallelParts + 1;
        _buffers = Channel.CreateBounded<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            _buffers.Writer.TryWrite(GC.AllocateUninitializedArray<byte>(store.PartSize));
        }
    }

    public string Location => $"s3://{_store.Bucket}/{_key}";

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        while (chunk.Length > 0)
        {
            ThrowIfFailed();
            _current ??= await _buffers.Reader.ReadAsync(Linked(cancellationToken)).ConfigureAwait(false);
            var take = Math.Min(chunk.Length, _current.Length - _filled);
            chunk.Span[..take].CopyTo(_current.AsSpan(_filled));
            _filled += take;
            _total += take;
            chunk = chunk[take..];
            if (_filled == _current.Length)
            {
                StartPart();
            }
        }
    }

    public async Task CompleteAsync(SnapshotManifest manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (_current is not null && _filled > 0)
        {
            StartPart();
        }

        PartETag[] parts;
        try
        {
            parts = await Task.WhenAll(_uploads).ConfigureAwait(false);
        }
        catch
        {
            ThrowIfFailed();
            throw;
        }

        var client = _store.Client;
        await Step("completing the multipart upload", () => client.CompleteMultipartUploadAsync(
            new CompleteMultipartUploadRequest { BucketName = _store.Bucket, Key = _key, UploadId = _uploadId, PartETags = [.. parts.OrderBy(p => p.PartNumber)] },
            cancellationToken)).ConfigureAwait(false);
        _completed = true;

        try
        {
            await FinishAsync(manifest, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The object exists but without its manifest: remove it, so the store never shows a snapshot the
            // record calls failed. Best effort; the failure itself is what is reported.
            try
            {
                await client.DeleteObjectAsync(_store.Bucket, _key, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
            }

            throw;
        }
    }

    private async Task FinishAsync(SnapshotManifest manifest, CancellationToken cancellationToken)
    {
        var stored = await Step("reading back the object's size", () => _store.HeadAsync(_key, cancellationToken)).ConfigureAwait(false);
        if (stored?.ContentLength != _total)
        {
            throw new IOException($"S3 stored {stored?.ContentLength.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no object"} for {Location}, not the {_total} bytes sent; the object was removed");
        }

        // The sha256 is only known at the end, and S3 metadata only at creation: it lives in the manifest (which Verify,
        // the snapshot browser and retention read), so the object is never rewritten to carry it.
        await Step("writing the manifest", () => _store.PutSmallAsync(_key + SnapshotName.ManifestExtension, manifest.ToUtf8(), cancellationToken, _lockUntil)).ConfigureAwait(false);
    }

    /// <summary>Runs one S3 call, saying which step of the upload failed if it does.</summary>
    private async Task<T> Step<T>(string what, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Amazon.Runtime.AmazonServiceException or HttpRequestException)
        {
            throw new IOException($"{what} of {Location} failed: {S3SnapshotStore.Describe(ex)}", ex);
        }
    }

    private void StartPart()
    {
        var buffer = _current!;
        var length = _filled;
        var number = _nextPart++;
        _current = null;
        _filled = 0;
        _uploads.Add(Task.Run(() => UploadPartAsync(buffer, length, number)));
    }

    private async Task<PartETag> UploadPartAsync(byte[] buffer, int length, int number)
    {
        try
        {
#pragma warning disable CA5351 // MD5 is what S3's Content-MD5 and part ETags are; it checks transport integrity, not secrecy.
            var md5 = MD5.HashData(buffer.AsSpan(0, length));
#pragma warning restore CA5351
            var response = await _store.Client.UploadPartAsync(
                _store.WithCustomerKey(new UploadPartRequest
                {
                    BucketName = _store.Bucket,
                    Key = _key,
                    UploadId = _uploadId,
                    PartNumber = number,
                    PartSize = length,
                    InputStream = new MemoryStream(buffer, 0, length, writable: false),
                    MD5Digest = Convert.ToBase64String(md5),
                    UseChunkEncoding = false,
                }),
                _abort.Token).ConfigureAwait(false);
            var etag = response.ETag?.Trim('"') ?? string.Empty;

            // A plain ETag is the part's MD5 (not with SSE-KMS, whose ETags are opaque; those are trusted to Content-MD5).
            if (etag.Length == 32 && etag.All(char.IsAsciiHexDigit) && !etag.Equals(Convert.ToHexStringLower(md5), StringComparison.OrdinalIgnoreCase))
            {
                throw new IOException($"S3 stored part {number} of {Location} with ETag {etag}, not the MD5 of what was sent ({Convert.ToHexStringLower(md5)})");
            }

            _store.CountPart();
            return new PartETag(number, response.ETag);
        }
        catch (Exception ex)
        {
            if (Interlocked.CompareExchange(ref _failure, ex, null) is null)
            {
                await _abort.CancelAsync().ConfigureAwait(false);
            }

            throw;
        }
        finally
        {
            _buffers.Writer.TryWrite(buffer);
        }
    }

    /// <summary>The caller's token joined with this upload's abort, made once per writer (callers pass the same token).</summary>
    private CancellationToken Linked(CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return _abort.Token;
        }

        _linked ??= CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _abort.Token);
        return _linked.Token;
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            throw new IOException($"uploading to {Location} failed: {S3SnapshotStore.Describe(failure)}", failure);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_completed)
        {
            _linked?.Dispose();
            _abort.Dispose();
            return;
        }

        await _abort.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_uploads).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Already failing; the abort below is what matters.
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _store.Client.AbortMultipartUploadAsync(_store.Bucket, _key, _uploadId, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Best effort: an unreachable store keeps the parts until its lifecycle rule removes them; no object exists.
        }

        _linked?.Dispose();
        _abort.Dispose();
    }
}
