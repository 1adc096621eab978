using System.Runtime.CompilerServices;
using Console.Domain.Backups;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Console.Infrastructure.Etcd;

/// <summary>
/// One answer on a watch: the events of one or more revisions (a revision's events are never split across batches:
/// fragments are joined), a progress notification (no events: etcd has sent every event up to
/// <see cref="HeaderRevision"/>), or the end of the watch (compacted past the start revision, or cancelled by etcd).
/// </summary>
public sealed record EtcdWatchBatch(long HeaderRevision, IReadOnlyList<DeltaEvent> Events, bool IsProgress, long CompactRevision, string? CancelReason)
{
    /// <summary>etcd compacted history past the revision the watch asked to start at: events in between are gone.</summary>
    public bool IsCompacted => CompactRevision > 0;
}

/// <summary>
/// A watch over the whole keyspace from a start revision, on one member. Read batches with <see cref="ReadAllAsync"/>;
/// <see cref="RequestProgressAsync"/> asks etcd to confirm how far the watch has seen (answered by a progress batch).
/// Disposing ends the stream. The stream has no deadline: it is meant to live until the console stops or the member
/// goes away (then reading throws <see cref="EtcdException"/>).
/// </summary>
public sealed class EtcdWatch : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<WatchRequest, WatchResponse> _call;
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly Uri _endpoint;

    internal EtcdWatch(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, Uri endpoint)
    {
        _call = call;
        _endpoint = endpoint;
    }

    internal async Task CreateAsync(long startRevision, CancellationToken cancellationToken)
    {
        var create = new WatchCreateRequest
        {
            // key "\0" with range_end "\0": every key.
            Key = ByteString.CopyFrom(0),
            RangeEnd = ByteString.CopyFrom(0),
            StartRevision = startRevision,
            ProgressNotify = true,
            Fragment = true,
        };
        await SendAsync(new WatchRequest { CreateRequest = create }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asks etcd for a progress notification (etcd 3.4+): it answers once every event up to its current revision was sent.</summary>
    public Task RequestProgressAsync(CancellationToken cancellationToken) =>
        SendAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() }, cancellationToken);

    public async IAsyncEnumerable<EtcdWatchBatch> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pending = new List<DeltaEvent>();
        while (true)
        {
            WatchResponse response;
            try
            {
                if (!await _call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    yield break;
                }

                response = _call.ResponseStream.Current;
            }
            catch (RpcException ex) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("the watch was cancelled", ex, cancellationToken);
            }
            catch (RpcException ex)
            {
                throw EtcdErrors.FromRpc(ex, _endpoint, Timeout.InfiniteTimeSpan);
            }

            var header = response.Header?.Revision ?? 0;
            if (response.Canceled || response.CompactRevision > 0)
            {
                yield return new EtcdWatchBatch(header, [], false, response.CompactRevision, string.IsNullOrEmpty(response.CancelReason) ? null : response.CancelReason);
                yield break;
            }

            if (response.Created && response.Events.Count == 0)
            {
                continue;
            }

            pending.AddRange(response.Events.Select(ToDelta));
            if (response.Fragment)
            {
                continue; // the rest of this revision's events follow
            }

            if (pending.Count == 0)
            {
                yield return new EtcdWatchBatch(header, [], true, 0, null);
                continue;
            }

            yield return new EtcdWatchBatch(header, pending, false, 0, null);
            pending = [];
        }
    }

    private static DeltaEvent ToDelta(Mvccpb.Event e)
    {
        var kv = e.Kv;
        var kind = e.Type == Mvccpb.Event.Types.EventType.Delete ? DeltaEventKind.Delete : DeltaEventKind.Put;
        return new DeltaEvent(kind, kv.Key.ToByteArray(), kind == DeltaEventKind.Put ? kv.Value.ToByteArray() : [], kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease);
    }

    private async Task SendAsync(WatchRequest request, CancellationToken cancellationToken)
    {
        await _send.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _call.RequestStream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw EtcdErrors.FromRpc(ex, _endpoint, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            _send.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _send.WaitAsync().ConfigureAwait(false);
            await _call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or ObjectDisposedException)
        {
            // The stream is already broken: nothing to close politely.
        }
        finally
        {
            _call.Dispose();
            _send.Dispose();
        }
    }
}

public sealed partial class EtcdClusterClient
{
    /// <summary>
    /// Starts a watch of every key on <paramref name="endpoint"/> from <paramref name="startRevision"/> (events with a
    /// revision at or above it), with progress notifications and fragments joined.
    /// </summary>
    public async Task<EtcdWatch> WatchAsync(Uri endpoint, long startRevision, CancellationToken cancellationToken)
    {
        var member = _channels.For(endpoint);
        var token = await TokenAsync(member, cancellationToken).ConfigureAwait(false);
        var watch = new EtcdWatch(member.Watch.Watch(new CallOptions(Headers(token), null, cancellationToken)), endpoint);
        try
        {
            await watch.CreateAsync(startRevision, cancellationToken).ConfigureAwait(false);
            return watch;
        }
        catch
        {
            await watch.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
