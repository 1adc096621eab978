using System.Security.Cryptography;

namespace Console.Infrastructure.Sealing;

/// <summary>
/// Opens the STREAM payload chunk by chunk. A chunk's bytes are returned only after it authenticated; the stream
/// ends only after a valid final chunk and the end of the input. Reads one byte past each full chunk to know whether
/// it is the final one.
/// </summary>
internal sealed class AgeDecryptStream : Stream
{
    private readonly Stream _input;
    private readonly bool _leaveOpen;
    private readonly ChaCha20Poly1305 _aead;
    private readonly byte[] _sealed = new byte[AgeFormat.SealedChunkSize + 1];
    private readonly byte[] _plain = new byte[AgeFormat.ChunkSize];
    private readonly byte[] _nonce = new byte[AgeFormat.NonceSize];
    private int _sealedLength;
    private int _plainPosition;
    private int _plainLength;
    private ulong _counter;
    private bool _done;
    private AgeException? _failure;
    private bool _disposed;

    public AgeDecryptStream(Stream input, bool leaveOpen, ReadOnlySpan<byte> fileKey, ReadOnlySpan<byte> payloadNonce, ReadOnlySpan<byte> readAhead)
    {
        _input = input;
        _leaveOpen = leaveOpen;
        var key = AgeFormat.PayloadKey(fileKey, payloadNonce);
        _aead = new ChaCha20Poly1305(key);
        CryptographicOperations.ZeroMemory(key);
        readAhead.CopyTo(_sealed);
        _sealedLength = readAhead.Length;
    }

    public override bool CanRead => !_disposed;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    public override int Read(Span<byte> buffer)
    {
        ThrowIfUnusable();
        if (buffer.IsEmpty)
        {
            return 0;
        }
        if (_plainPosition == _plainLength)
        {
            if (_done)
            {
                return 0;
            }
            var eof = false;
            while (_sealedLength < _sealed.Length)
            {
                var read = _input.Read(_sealed, _sealedLength, _sealed.Length - _sealedLength);
                if (read == 0)
                {
                    eof = true;
                    break;
                }
                _sealedLength += read;
            }
            if (buffer.Length >= AgeFormat.ChunkSize)
            {
                return Open(eof, buffer);
            }
            _plainLength = Open(eof, _plain);
            _plainPosition = 0;
        }
        return CopyOut(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable();
        if (buffer.IsEmpty)
        {
            return 0;
        }
        if (_plainPosition == _plainLength)
        {
            if (_done)
            {
                return 0;
            }
            var eof = false;
            while (_sealedLength < _sealed.Length)
            {
                var read = await _input.ReadAsync(_sealed.AsMemory(_sealedLength), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    eof = true;
                    break;
                }
                _sealedLength += read;
            }
            if (buffer.Length >= AgeFormat.ChunkSize)
            {
                return Open(eof, buffer.Span);
            }
            _plainLength = Open(eof, _plain);
            _plainPosition = 0;
        }
        return CopyOut(buffer.Span);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            Release();
            if (!_leaveOpen)
            {
                _input.Dispose();
            }
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            Release();
            if (!_leaveOpen)
            {
                await _input.DisposeAsync().ConfigureAwait(false);
            }
        }
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void Release()
    {
        _disposed = true;
        _aead.Dispose();
        CryptographicOperations.ZeroMemory(_plain);
    }

    private int CopyOut(Span<byte> buffer)
    {
        var count = Math.Min(buffer.Length, _plainLength - _plainPosition);
        _plain.AsSpan(_plainPosition, count).CopyTo(buffer);
        _plainPosition += count;
        return count;
    }

    /// <summary>
    /// Opens the chunk at the start of the sealed buffer into <paramref name="output"/> (at least a chunk long).
    /// Without <paramref name="eof"/> the buffer holds a full chunk and one byte more, so the chunk is not final.
    /// </summary>
    private int Open(bool eof, Span<byte> output)
    {
        try
        {
            return eof ? OpenFinal(output) : OpenFull(output);
        }
        catch (AgeException e)
        {
            _failure = e;
            throw;
        }
    }

    private int OpenFull(Span<byte> output)
    {
        var chunk = _sealed.AsSpan(0, AgeFormat.SealedChunkSize);
        if (TryOpen(chunk, last: false, output))
        {
            _sealed[0] = _sealed[AgeFormat.SealedChunkSize];
            _sealedLength = 1;
            _counter++;
            return AgeFormat.ChunkSize;
        }
        if (TryOpen(chunk, last: true, output))
        {
            output.Clear();
            throw new AgeException("data after the final chunk");
        }
        throw Tampered();
    }

    private int OpenFinal(Span<byte> output)
    {
        if (_sealedLength == 0)
        {
            throw new AgeException("the copy is truncated: its final chunk is missing");
        }
        if (_sealedLength < AgeFormat.TagSize)
        {
            throw new AgeException($"the copy is truncated: chunk {_counter + 1} is incomplete");
        }
        var chunk = _sealed.AsSpan(0, _sealedLength);
        if (TryOpen(chunk, last: true, output))
        {
            var length = _sealedLength - AgeFormat.TagSize;
            if (length == 0 && _counter > 0)
            {
                throw new AgeException("not a valid age file: an empty final chunk follows a full one");
            }
            _done = true;
            _sealedLength = 0;
            return length;
        }
        if (_sealedLength == AgeFormat.SealedChunkSize && TryOpen(chunk, last: false, output))
        {
            // A valid middle chunk at the very end: the copy was cut at a chunk boundary.
            output.Clear();
            throw new AgeException("the copy is truncated: its final chunk is missing");
        }
        // A short chunk that fails may be a tampered final chunk or a chunk cut short: the tag cannot tell which.
        throw new AgeException($"chunk {_counter + 1} failed authentication: the copy is tampered or corrupt, or truncated");
    }

    private bool TryOpen(ReadOnlySpan<byte> chunk, bool last, Span<byte> output)
    {
        AgeFormat.ChunkNonce(_nonce, _counter, last);
        var length = chunk.Length - AgeFormat.TagSize;
        try
        {
            // On a mismatch the BCL clears the output, so unauthenticated bytes never reach the caller.
            _aead.Decrypt(_nonce, chunk[..length], chunk[length..], output[..length]);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    private AgeException Tampered() =>
        new($"chunk {_counter + 1} failed authentication: the copy is tampered or corrupt");

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is not null)
        {
            throw new AgeException(_failure.Message, _failure);
        }
    }
}
