using System.Security.Cryptography;
using Console.Domain.Backups;
using Console.Infrastructure.Etcd;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Console.Infrastructure.Sealing;

/// <summary>What was stored for a sealed copy: the sha256 and size of the bytes the targets hold.</summary>
public sealed record SealedCopy(string StoredSha256, long StoredSizeBytes);

/// <summary>
/// Seals a snapshot on its way to the targets: the raw stream (whose footer the verifier checks as it passes) goes
/// through zstd, then age, and the sealed bytes are hashed as they leave for the targets, so a copy can be re-verified
/// later without its identity. Layers are plain formats (one zstd frame with its content checksum, one age file), so
/// <c>age -d | zstd -d</c> gives back the exact <c>.db</c>.
/// </summary>
public sealed class SealingSink : ISnapshotSink, IAsyncDisposable
{
    private readonly StoredBytes _stored;
    private readonly SnapshotCodec _codec;
    private readonly int _level;
    private readonly IReadOnlyList<AgeRecipient> _recipients;
    private Stream? _age;
    private CompressionStream? _zstd;
    private Stream? _top;
    private bool _completed;

    public SealingSink(SnapshotCodec codec, int level, IReadOnlyList<AgeRecipient> recipients, ISnapshotSink targets)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        if (codec.HasFlag(SnapshotCodec.Age) != (recipients.Count > 0))
        {
            throw new ArgumentException("age sealing needs at least one recipient, and recipients need the age codec", nameof(recipients));
        }

        (_codec, _level, _recipients) = (codec, level, recipients);
        _stored = new StoredBytes(targets);
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        _stored.CancellationToken = cancellationToken;
        var top = _top ?? await OpenLayersAsync(cancellationToken).ConfigureAwait(false);
        await top.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
    }

    // The layers open on the first chunk: age's header goes out asynchronously (a target may be a network upload).
    private async Task<Stream> OpenLayersAsync(CancellationToken cancellationToken)
    {
        _top = _stored;
        if (_codec.HasFlag(SnapshotCodec.Age))
        {
            _age = await AgeFormat.EncryptAsync(_stored, _recipients, leaveOpen: true, cancellationToken).ConfigureAwait(false);
            _top = _age;
        }

        if (_codec.HasFlag(SnapshotCodec.Zstd))
        {
            _zstd = new CompressionStream(_top, _level, leaveOpen: true);
            _zstd.SetParameter(ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
            _top = _zstd;
        }

        return _top;
    }

    /// <summary>Ends each layer (zstd's last block, age's final chunk), so everything has reached the targets.</summary>
    public async Task<SealedCopy> CompleteAsync(CancellationToken cancellationToken)
    {
        _stored.CancellationToken = cancellationToken;
        _ = _top ?? await OpenLayersAsync(cancellationToken).ConfigureAwait(false);
        if (_zstd is not null)
        {
            await _zstd.DisposeAsync().ConfigureAwait(false);
        }

        if (_age is not null)
        {
            await _age.DisposeAsync().ConfigureAwait(false);
        }

        _completed = true;
        return new SealedCopy(_stored.Sha256(), _stored.Length);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_completed)
        {
            // An aborted run: nothing more may reach the targets (their writers abort), so the layers are not ended.
            _stored.Closed = true;
            if (_zstd is not null)
            {
                await _zstd.DisposeAsync().ConfigureAwait(false);
            }

            if (_age is not null)
            {
                await _age.DisposeAsync().ConfigureAwait(false);
            }
        }

        _stored.Dispose();
    }

    /// <summary>The bottom of the stack: a write-only stream that hashes what it passes to the targets.</summary>
    private sealed class StoredBytes(ISnapshotSink targets) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _length;

        public CancellationToken CancellationToken { get; set; }

        public bool Closed { get; set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public string Sha256() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Closed || buffer.IsEmpty)
            {
                return;
            }

            _hash.AppendData(buffer.Span);
            _length += buffer.Length;
            await targets.WriteAsync(buffer, cancellationToken.CanBeCanceled ? cancellationToken : CancellationToken).ConfigureAwait(false);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // The layers above write asynchronously while a snapshot streams; a synchronous write only comes from a layer
        // ending itself inside Dispose, which SealingSink never does (it disposes asynchronously).
        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
