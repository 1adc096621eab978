using System.Security.Cryptography;
using Console.Domain.Backups;
using Console.Infrastructure.Storage;
using ZstdSharp;

namespace Console.Infrastructure.Sealing;

/// <summary>A sealed copy that cannot be opened here: no identity, or none that opens it. Nothing was changed.</summary>
public sealed class SealedCopyException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// Opens a stored copy of any format as the raw etcd snapshot: age first (with the configured identities and any
/// given for this one use), then zstd. The stored bytes are hashed as they are read, so once the raw stream has been
/// read to its end <see cref="OpenedSnapshot.StoredSha256"/> can be compared with the manifest.
/// </summary>
public sealed class SnapshotOpener(SealingKeys keys)
{
    /// <param name="identities">Identities given for this one use (an operator's upload in the wizard), tried before the configured ones.</param>
    public Task<OpenedSnapshot> OpenAsync(Stream stored, SnapshotName name, SnapshotManifest? manifest, IReadOnlyList<AgeIdentity>? identities, CancellationToken cancellationToken) =>
        OpenAsync(stored, name.Codec, name.FileName, manifest, identities, cancellationToken);

    /// <summary>Opens any sealed copy named <paramref name="fileName"/> whose name says <paramref name="codec"/> (a snapshot, a delta segment).</summary>
    public async Task<OpenedSnapshot> OpenAsync(Stream stored, SnapshotCodec codec, string fileName, SnapshotManifest? manifest, IReadOnlyList<AgeIdentity>? identities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var hashed = new HashingStream(stored);
        Stream raw = hashed;
        try
        {
            if (codec.HasFlag(SnapshotCodec.Age))
            {
                var all = (identities ?? []).Concat(keys.HasIdentities ? keys.Identities() : []).ToList();
                if (all.Count == 0)
                {
                    throw new SealedCopyException($"{fileName} is encrypted with age{SealedTo(manifest)}, and no identity is configured to open it: set Console:Encryption:IdentityFiles to a file with the matching AGE-SECRET-KEY-1… (or give one for this restore). Nothing was changed.");
                }

                try
                {
                    raw = await AgeFormat.OpenAsync(raw, all, leaveOpen: false, cancellationToken).ConfigureAwait(false);
                }
                catch (AgeNoIdentityException ex)
                {
                    throw new SealedCopyException($"none of the {all.Count} identit{(all.Count == 1 ? "y" : "ies")} available opens {fileName}: it was sealed{SealedTo(manifest)}. Nothing was changed.", ex);
                }
            }

            if (codec.HasFlag(SnapshotCodec.Zstd))
            {
                raw = new DecompressionStream(raw, leaveOpen: false);
            }

            return new OpenedSnapshot(raw, hashed);
        }
        catch
        {
            await raw.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>" to age1…(sha256:…), age1…" from the manifest, or "" when there is none to say.</summary>
    public static string SealedTo(SnapshotManifest? manifest) =>
        manifest?.Recipients is { Count: > 0 } recipients
            ? $" to {string.Join(", ", recipients.Select(r => $"{r.Recipient} ({r.Fingerprint})"))}"
            : string.Empty;
}

/// <summary>The raw snapshot of an opened copy; <see cref="StoredSha256"/> and <see cref="StoredBytes"/> cover what was read of the stored bytes.</summary>
public sealed class OpenedSnapshot(Stream raw, HashingStream stored) : IAsyncDisposable
{
    public Stream Raw { get; } = raw;

    /// <summary>
    /// Reads what is left of the stored bytes after the raw stream ended (a decompressor may stop at its frame's end),
    /// so the hash covers the whole stored copy and trailing bytes cannot hide. Call once the raw stream is read out.
    /// </summary>
    public async Task<SealedCopy> FinishAsync(CancellationToken cancellationToken)
    {
        await stored.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        return new SealedCopy(stored.Sha256(), stored.BytesRead);
    }

    public async ValueTask DisposeAsync()
    {
        await Raw.DisposeAsync().ConfigureAwait(false);
        await stored.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>A read-only pass-through that hashes what is read.</summary>
public sealed class HashingStream(Stream inner) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private string? _sha256;

    public long BytesRead { get; private set; }

    public string Sha256() => _sha256 ??= Convert.ToHexStringLower(_hash.GetHashAndReset());

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        Count(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Count(buffer.Span[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Count(ReadOnlySpan<byte> read)
    {
        _hash.AppendData(read);
        BytesRead += read.Length;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        _hash.Dispose();
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
