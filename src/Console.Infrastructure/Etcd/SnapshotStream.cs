using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Console.Infrastructure.Etcd;

/// <summary>Where the bytes of a snapshot go as they arrive (a local .part file, an S3 upload, or several at once).</summary>
public interface ISnapshotSink
{
    ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken);
}

public sealed record SnapshotOptions(TimeSpan IdleTimeout, TimeSpan Deadline)
{
    public static readonly SnapshotOptions Default = new(TimeSpan.FromSeconds(30), TimeSpan.FromHours(1));
}

/// <summary>How far a snapshot stream is. <see cref="TotalBytes"/> comes from etcd's remaining_bytes and includes the 32-byte footer.</summary>
public readonly record struct SnapshotProgress(long BytesReceived, long? TotalBytes);

/// <summary>A complete, verified snapshot: its size (footer included), the footer's sha256, and the revision etcd reported.</summary>
public sealed record SnapshotResult(long Size, string Sha256, long? Revision);

/// <summary>
/// Verifies a snapshot as it streams: the last 32 bytes must be the sha256 of everything before them, and the size
/// must be 32 more than a multiple of 512 (etcd's own client refuses anything else). Hashing runs one step behind
/// the stream, holding back the newest 32 bytes because they may turn out to be the footer.
/// </summary>
public sealed class SnapshotVerifier : IDisposable
{
    public const int FooterSize = 32;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _tail = new byte[FooterSize];
    private int _tailLength;

    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> chunk)
    {
        Length += chunk.Length;
        if (chunk.Length >= FooterSize)
        {
            _hash.AppendData(_tail.AsSpan(0, _tailLength));
            _hash.AppendData(chunk[..^FooterSize]);
            chunk[^FooterSize..].CopyTo(_tail);
            _tailLength = FooterSize;
            return;
        }

        // A short chunk: keep the newest 32 bytes of tail + chunk, hash what falls out.
        var combined = _tailLength + chunk.Length;
        var overflow = Math.Max(0, combined - FooterSize);
        Span<byte> joined = stackalloc byte[FooterSize * 2];
        _tail.AsSpan(0, _tailLength).CopyTo(joined);
        chunk.CopyTo(joined[_tailLength..]);
        _hash.AppendData(joined[..overflow]);
        joined[overflow..combined].CopyTo(_tail);
        _tailLength = combined - overflow;
    }

    /// <summary>Returns the hex sha256 from the footer, or throws <see cref="SnapshotIntegrityException"/> saying what is wrong.</summary>
    public string Complete()
    {
        if (Length < FooterSize || Length % 512 != FooterSize)
        {
            throw new SnapshotIntegrityException(
                $"the snapshot is {Length} bytes, which is not 32 more than a multiple of 512: it has no sha256 footer or is truncated");
        }

        var computed = _hash.GetHashAndReset();
        if (!CryptographicOperations.FixedTimeEquals(computed, _tail))
        {
            throw new SnapshotIntegrityException(
                $"the snapshot's sha256 footer ({Convert.ToHexStringLower(_tail)}) does not match its content ({Convert.ToHexStringLower(computed)}): the data is corrupt");
        }

        return Convert.ToHexStringLower(computed);
    }

    /// <summary>Verifies a whole snapshot file.</summary>
    public static async Task<string> VerifyFileAsync(string path, CancellationToken cancellationToken)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        await using (file.ConfigureAwait(false))
        {
            return await VerifyStreamAsync(file, null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Verifies a snapshot read from <paramref name="source"/>, optionally passing every byte on to <paramref name="copyTo"/>.</summary>
    public static async Task<string> VerifyStreamAsync(Stream source, ISnapshotSink? copyTo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var verifier = new SnapshotVerifier();
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                verifier.Append(buffer.AsSpan(0, read));
                if (copyTo is not null)
                {
                    await copyTo.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }

            return verifier.Complete();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => _hash.Dispose();
}

public sealed class SnapshotIntegrityException : Exception
{
    public SnapshotIntegrityException(string message)
        : base(message)
    {
    }

    public SnapshotIntegrityException()
    {
    }

    public SnapshotIntegrityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Reads the fields of a SnapshotResponse in place, without copying the blob.</summary>
internal static class SnapshotResponseReader
{
    public static (ulong? Remaining, long? Revision, Memory<byte> Blob) Read(Memory<byte> message)
    {
        ulong? remaining = null;
        long? revision = null;
        var blob = Memory<byte>.Empty;
        var span = message.Span;
        var position = 0;
        while (position < span.Length)
        {
            var tag = ReadVarint(span, ref position);
            var field = (int)(tag >> 3);
            var wireType = (int)(tag & 7);
            switch (wireType)
            {
                case 0:
                    var value = ReadVarint(span, ref position);
                    if (field == 2)
                    {
                        remaining = value;
                    }

                    break;
                case 2:
                    var length = checked((int)ReadVarint(span, ref position));
                    if (field == 3)
                    {
                        blob = message.Slice(position, length);
                    }
                    else if (field == 1)
                    {
                        revision = Protocol.ResponseHeader.Parser.ParseFrom(span.Slice(position, length)).Revision;
                    }

                    position += length;
                    break;
                case 1:
                    position += 8;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new IOException($"unexpected protobuf wire type {wireType} in a snapshot message");
            }
        }

        return (remaining, revision is 0 ? null : revision, blob);
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = span[position++];
            result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw new IOException("malformed varint in a snapshot message");
    }

    internal static int ReadFrameLength(ReadOnlySpan<byte> header)
    {
        if (header[0] != 0)
        {
            throw new IOException("the server sent a compressed gRPC message, which the console did not ask for");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..5]);
        return length > GrpcFraming.MaxMessageSize
            ? throw new IOException($"the server announced a {length}-byte gRPC message, larger than the {GrpcFraming.MaxMessageSize}-byte limit")
            : (int)length;
    }
}
