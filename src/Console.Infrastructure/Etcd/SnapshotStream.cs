using System.Buffers;
using System.Security.Cryptography;
using Etcdserverpb;
using Grpc.Core;

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

/// <summary>
/// Reads etcd's <c>Maintenance.Snapshot</c> stream through dotnet-etcd's generated client: each 32 KiB blob goes to
/// the verifier and the sink straight from the parsed message (no further copy), and the run fails when no message
/// arrives for the idle timeout (a paused or wedged member), when the whole stream exceeds the deadline, or when it
/// ends without an OK status (Grpc.Net.Client raises a cut or status-less end as an error).
/// </summary>
internal static class SnapshotStream
{
    public static async Task<SnapshotResult> ReadAsync(EtcdEndpoint member, Metadata? headers, ISnapshotSink sink, IProgress<SnapshotProgress>? progress, SnapshotOptions options, CancellationToken cancellationToken)
    {
        var endpoint = member.Address;
        using var overall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        overall.CancelAfter(options.Deadline);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(overall.Token);
        idle.CancelAfter(options.IdleTimeout);

        using var verifier = new SnapshotVerifier();
        long? total = null;
        long? revision = null;
        try
        {
            using var call = member.Maintenance.Snapshot(new SnapshotRequest(), new CallOptions(headers, cancellationToken: idle.Token));
            var messages = call.ResponseStream;
            while (await messages.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                // Time spent by the consumer (disk, upload) is not the server being idle.
                idle.CancelAfter(Timeout.InfiniteTimeSpan);
                var message = messages.Current;
                var blob = message.Blob.Memory;
                if (revision is null && message.Header?.Revision is > 0 and var headerRevision)
                {
                    revision = headerRevision;
                }

                if (total is null && message.RemainingBytes > 0)
                {
                    // remaining_bytes counts what is left after this message, excluding the 32-byte footer message.
                    total = verifier.Length + blob.Length + (long)message.RemainingBytes + SnapshotVerifier.FooterSize;
                }

                verifier.Append(blob.Span);
                await sink.WriteAsync(blob, cancellationToken).ConfigureAwait(false);
                progress?.Report(new SnapshotProgress(verifier.Length, total));
                idle.CancelAfter(options.IdleTimeout);
            }

            // MoveNext ends only on an OK status; say so explicitly, a snapshot must never look complete when cut.
            if (call.GetStatus().StatusCode != StatusCode.OK)
            {
                throw new EtcdException(EtcdErrorKind.Protocol, $"the stream from {endpoint.Authority} ended with {call.GetStatus()}", endpoint);
            }
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException && !cancellationToken.IsCancellationRequested && overall.IsCancellationRequested)
        {
            throw new EtcdException(EtcdErrorKind.DeadlineExceeded, $"the stream from {endpoint.Authority} did not finish within {options.Deadline} (deadline exceeded) after {verifier.Length:N0} bytes", endpoint, EtcdErrors.DeadlineExceededCode, ex);
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException && !cancellationToken.IsCancellationRequested && idle.IsCancellationRequested)
        {
            throw new EtcdException(EtcdErrorKind.DeadlineExceeded, $"{endpoint.Authority} sent nothing for {options.IdleTimeout.TotalSeconds:0.#} s after {verifier.Length:N0} bytes: the member is hung or the network stalled (idle timeout)", endpoint, EtcdErrors.DeadlineExceededCode, ex);
        }
        catch (RpcException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"the snapshot from {endpoint.Authority} was cancelled", ex, cancellationToken);
        }
        catch (RpcException ex) when (verifier.Length > 0)
        {
            // Mid-stream, whatever the cause, what the sink holds is incomplete. No status code is carried on, so a
            // caller never mistakes this for a rejection it could retry from the start.
            var cause = ex.Status.DebugException is { } transport ? Innermost(transport).Message : EtcdErrors.FromRpc(ex, endpoint, options.Deadline).Message;
            throw new EtcdException(EtcdErrorKind.Unreachable, $"the stream from {endpoint.Authority} was cut after {verifier.Length:N0} bytes: {cause} (did the member stop or the connection drop?)", endpoint, null, ex);
        }
        catch (RpcException ex)
        {
            throw EtcdErrors.FromRpc(ex, endpoint, options.Deadline);
        }

        return new SnapshotResult(verifier.Length, verifier.Complete(), revision);
    }

    private static Exception Innermost(Exception exception)
    {
        var current = exception;
        while (current.InnerException is not null)
        {
            current = current.InnerException;
        }

        return current;
    }
}
