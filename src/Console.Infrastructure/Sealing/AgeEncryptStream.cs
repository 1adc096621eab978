using System.Security.Cryptography;

namespace Console.Infrastructure.Sealing;

/// <summary>
/// Seals the payload in 64 KiB STREAM chunks. One full chunk is held back until more data (or Dispose) says whether
/// it is the final one; buffers and the AEAD instance are reused, so chunks allocate nothing.
/// </summary>
internal sealed class AgeEncryptStream : Stream
{
    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly ChaCha20Poly1305 _aead;
    private readonly byte[] _plain = new byte[AgeFormat.ChunkSize];
    private readonly byte[] _sealed = new byte[AgeFormat.SealedChunkSize];
    private readonly byte[] _nonce = new byte[AgeFormat.NonceSize];
    private int _buffered;
    private ulong _counter;
    private bool _finished;
    private bool _faulted;
    private bool _disposed;

    public AgeEncryptStream(Stream output, bool leaveOpen, ReadOnlySpan<byte> fileKey, ReadOnlySpan<byte> payloadNonce)
    {
        _output = output;
        _leaveOpen = leaveOpen;
        var key = AgeFormat.PayloadKey(fileKey, payloadNonce);
        _aead = new ChaCha20Poly1305(key);
        CryptographicOperations.ZeroMemory(key);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_disposed;
    public override long Length => throw new NotSupportedException();
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    public override void WriteByte(byte value) => Write(new ReadOnlySpan<byte>(in value));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfUnusable();
        while (!buffer.IsEmpty)
        {
            if (_buffered == AgeFormat.ChunkSize)
            {
                // More data follows, so the held chunk is not the final one.
                WriteSealed(Seal(_plain, last: false));
                _buffered = 0;
            }
            else if (_buffered == 0 && buffer.Length > AgeFormat.ChunkSize)
            {
                // A whole chunk with more after it: seal it straight from the caller's buffer.
                WriteSealed(Seal(buffer[..AgeFormat.ChunkSize], last: false));
                buffer = buffer[AgeFormat.ChunkSize..];
            }
            else
            {
                var take = Math.Min(AgeFormat.ChunkSize - _buffered, buffer.Length);
                buffer[..take].CopyTo(_plain.AsSpan(_buffered));
                _buffered += take;
                buffer = buffer[take..];
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable();
        while (!buffer.IsEmpty)
        {
            if (_buffered == AgeFormat.ChunkSize)
            {
                await WriteSealedAsync(Seal(_plain, last: false), cancellationToken).ConfigureAwait(false);
                _buffered = 0;
            }
            else if (_buffered == 0 && buffer.Length > AgeFormat.ChunkSize)
            {
                await WriteSealedAsync(Seal(buffer.Span[..AgeFormat.ChunkSize], last: false), cancellationToken).ConfigureAwait(false);
                buffer = buffer[AgeFormat.ChunkSize..];
            }
            else
            {
                var take = Math.Min(AgeFormat.ChunkSize - _buffered, buffer.Length);
                buffer.Span[..take].CopyTo(_plain.AsSpan(_buffered));
                _buffered += take;
                buffer = buffer[take..];
            }
        }
    }

    /// <summary>Flushes the output; the held chunk stays until Dispose, since only then is it known to be final.</summary>
    public override void Flush() => _output.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            try
            {
                if (!_finished && !_faulted)
                {
                    WriteSealed(Seal(_plain.AsSpan(0, _buffered), last: true));
                    _finished = true;
                    _output.Flush();
                }
            }
            finally
            {
                Release();
                if (!_leaveOpen)
                {
                    _output.Dispose();
                }
            }
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            try
            {
                if (!_finished && !_faulted)
                {
                    await WriteSealedAsync(Seal(_plain.AsSpan(0, _buffered), last: true), CancellationToken.None).ConfigureAwait(false);
                    _finished = true;
                    await _output.FlushAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                Release();
                if (!_leaveOpen)
                {
                    await _output.DisposeAsync().ConfigureAwait(false);
                }
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

    private int Seal(ReadOnlySpan<byte> plaintext, bool last)
    {
        AgeFormat.ChunkNonce(_nonce, _counter, last);
        _aead.Encrypt(_nonce, plaintext, _sealed.AsSpan(0, plaintext.Length), _sealed.AsSpan(plaintext.Length, AgeFormat.TagSize));
        _counter++;
        return plaintext.Length + AgeFormat.TagSize;
    }

    private void WriteSealed(int length)
    {
        try
        {
            _output.Write(_sealed, 0, length);
        }
        catch
        {
            // The output is broken: Dispose must not try to write the final chunk and hide this error.
            _faulted = true;
            throw;
        }
    }

    private async ValueTask WriteSealedAsync(int length, CancellationToken cancellationToken)
    {
        try
        {
            await _output.WriteAsync(_sealed.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _faulted = true;
            throw;
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_faulted)
        {
            throw new IOException("the sealed stream's output failed earlier; the copy is incomplete");
        }
    }
}
