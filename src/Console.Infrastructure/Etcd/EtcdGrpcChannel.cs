using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace Console.Infrastructure.Etcd;

/// <summary>
/// A minimal gRPC client over <see cref="HttpClient"/> (HTTP/2: h2c on http, ALPN on https). etcd's API is plain
/// unary calls plus one server stream (Snapshot), which is all this needs to carry. Every call has a deadline.
/// </summary>
internal sealed class EtcdGrpcChannel : IDisposable
{
    private static readonly MediaTypeHeaderValue GrpcContentType = new("application/grpc");
    private readonly HttpClient _http;

    public EtcdGrpcChannel(HttpMessageHandler handler, TimeSpan callTimeout)
    {
        _http = new HttpClient(handler, disposeHandler: true)
        {
            // Deadlines are ours (per call); HttpClient's own timeout would also cut long snapshot streams.
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        CallTimeout = callTimeout;
    }

    public TimeSpan CallTimeout { get; }

    public async Task<TResponse> UnaryAsync<TResponse>(Uri endpoint, string method, IMessage request, MessageParser<TResponse> parser, string? token, CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CallTimeout);
        try
        {
            using var message = CreateRequest(endpoint, method, request, token, CallTimeout);
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            EnsureGrpcResponse(response, endpoint);
            var stream = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var body = await GrpcFraming.ReadMessageAsync(stream, deadline.Token).ConfigureAwait(false);

                // Read to the end of the stream so the trailers (grpc-status) are available.
                while (body is not null && await GrpcFraming.ReadMessageAsync(stream, deadline.Token).ConfigureAwait(false) is not null)
                {
                }

                EnsureOkTrailers(response, endpoint);
                return body is null
                    ? throw new EtcdException(EtcdErrorKind.Protocol, $"{endpoint.Authority} ended the {method} call without a response message", endpoint)
                    : parser.ParseFrom(body);
            }
        }
        catch (Exception ex) when (ex is not EtcdException && !(cancellationToken.IsCancellationRequested && ex is OperationCanceledException))
        {
            throw EtcdErrors.FromException(ex, endpoint, CallTimeout, deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested);
        }
    }

    /// <summary>
    /// A server-streaming call: <paramref name="onMessage"/> sees each message in a reused buffer (valid only during the
    /// call). Fails when no byte arrives for <paramref name="idleTimeout"/> (a paused or wedged member), when the whole
    /// call exceeds <paramref name="deadline"/>, and when the stream ends without grpc-status 0.
    /// </summary>
    public async Task ServerStreamAsync(
        Uri endpoint,
        string method,
        IMessage request,
        string? token,
        TimeSpan idleTimeout,
        TimeSpan deadline,
        Func<Memory<byte>, ValueTask> onMessage,
        CancellationToken cancellationToken)
    {
        using var overall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        overall.CancelAfter(deadline);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(overall.Token);
        idle.CancelAfter(idleTimeout);

        // Read the stream in large chunks and cut every complete message out of the buffer: far fewer reads (and
        // thread hops) than reading each 5-byte header and 32 KiB body separately.
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        int start = 0, end = 0;
        long received = 0;
        try
        {
            using var message = CreateRequest(endpoint, method, request, token, deadline);
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
            EnsureGrpcResponse(response, endpoint);
            var stream = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                while (true)
                {
                    var needed = GrpcFraming.HeaderSize;
                    if (end - start >= GrpcFraming.HeaderSize)
                    {
                        var length = SnapshotResponseReader.ReadFrameLength(buffer.AsSpan(start, GrpcFraming.HeaderSize));
                        needed = GrpcFraming.HeaderSize + length;
                        if (end - start >= needed)
                        {
                            // Time spent by the consumer (disk, upload) is not the server being idle.
                            idle.CancelAfter(Timeout.InfiniteTimeSpan);
                            await onMessage(buffer.AsMemory(start + GrpcFraming.HeaderSize, length)).ConfigureAwait(false);
                            start += needed;
                            continue;
                        }
                    }

                    if (buffer.Length - start < needed || start == end)
                    {
                        // Make room: move the partial message to the front (or into a larger buffer).
                        var target = needed > buffer.Length ? System.Buffers.ArrayPool<byte>.Shared.Rent(needed) : buffer;
                        Buffer.BlockCopy(buffer, start, target, 0, end - start);
                        if (!ReferenceEquals(target, buffer))
                        {
                            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                            buffer = target;
                        }

                        end -= start;
                        start = 0;
                    }

                    idle.CancelAfter(idleTimeout);
                    var read = await stream.ReadAsync(buffer.AsMemory(end), idle.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        if (end != start)
                        {
                            throw new HttpIOException(HttpRequestError.ResponseEnded, $"the stream ended in the middle of a message ({end - start} bytes of {needed})");
                        }

                        break;
                    }

                    end += read;
                    received += read;
                }

                EnsureOkTrailers(response, endpoint);
            }
        }
        catch (Exception ex) when (ex is not EtcdException && !cancellationToken.IsCancellationRequested && ex is OperationCanceledException)
        {
            throw overall.IsCancellationRequested
                ? new EtcdException(EtcdErrorKind.DeadlineExceeded, $"the stream from {endpoint.Authority} did not finish within {deadline} (deadline exceeded) after {received:N0} bytes", endpoint, EtcdErrors.DeadlineExceededCode, ex)
                : new EtcdException(EtcdErrorKind.DeadlineExceeded, $"{endpoint.Authority} sent nothing for {idleTimeout.TotalSeconds:0.#} s after {received:N0} bytes: the member is hung or the network stalled (idle timeout)", endpoint, EtcdErrors.DeadlineExceededCode, ex);
        }
        catch (Exception ex) when (ex is HttpIOException or IOException && received > 0)
        {
            throw new EtcdException(EtcdErrorKind.Unreachable, $"the stream from {endpoint.Authority} was cut after {received:N0} bytes: {ex.Message} (did the member stop or the connection drop?)", endpoint, null, ex);
        }
        catch (Exception ex) when (ex is not EtcdException && !(cancellationToken.IsCancellationRequested && ex is OperationCanceledException))
        {
            throw EtcdErrors.FromException(ex, endpoint, deadline, deadlineHit: false);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static HttpRequestMessage CreateRequest(Uri endpoint, string method, IMessage request, string? token, TimeSpan timeout)
    {
        var content = new ByteArrayContent(GrpcFraming.Frame(request));
        content.Headers.ContentType = GrpcContentType;
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, method))
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        message.Headers.TE.ParseAdd("trailers");
        message.Headers.TryAddWithoutValidation("grpc-timeout", $"{Math.Max(1, (long)timeout.TotalMilliseconds)}m");
        if (token is not null)
        {
            message.Headers.TryAddWithoutValidation("token", token);
        }

        return message;
    }

    private static void EnsureGrpcResponse(HttpResponseMessage response, Uri endpoint)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw EtcdErrors.StatusCode(response.StatusCode, endpoint);
        }

        // Errors often come "trailers-only": the status sits in the response headers and there is no body.
        if (ReadStatus(response.Headers) is { } status && status.Code != EtcdErrors.Ok)
        {
            throw EtcdErrors.FromStatus(status.Code, status.Message, endpoint);
        }
    }

    private static void EnsureOkTrailers(HttpResponseMessage response, Uri endpoint)
    {
        var status = ReadStatus(response.TrailingHeaders) ?? ReadStatus(response.Headers);
        if (status is null)
        {
            throw new EtcdException(EtcdErrorKind.Protocol, $"{endpoint.Authority} ended the call without a grpc-status: the response was cut short", endpoint);
        }

        if (status.Value.Code != EtcdErrors.Ok)
        {
            throw EtcdErrors.FromStatus(status.Value.Code, status.Value.Message, endpoint);
        }
    }

    internal static (int Code, string Message)? ReadStatus(HttpHeaders headers)
    {
        if (!headers.TryGetValues("grpc-status", out var codes))
        {
            return null;
        }

        var code = int.TryParse(codes.FirstOrDefault(), System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : 2;
        var message = headers.TryGetValues("grpc-message", out var messages) ? Uri.UnescapeDataString(messages.FirstOrDefault() ?? string.Empty) : string.Empty;
        return (code, message);
    }

    public void Dispose() => _http.Dispose();
}
