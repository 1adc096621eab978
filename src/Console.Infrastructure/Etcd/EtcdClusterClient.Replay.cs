using Console.Domain.Backups;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Console.Infrastructure.Etcd;

/// <summary>A lease as etcd knows it: its id and the TTL it was granted (seconds).</summary>
public sealed record EtcdLease(long Id, long GrantedTtl);

/// <summary>
/// The calls a point-in-time replay makes on its throwaway etcd: one transaction per source revision, lease grants
/// with a chosen id, the lease list, and keep-alives.
/// </summary>
public sealed partial class EtcdClusterClient
{
    /// <summary>
    /// Applies the events of one source revision as one transaction (puts with their value and lease, deletes of each
    /// key) and returns the revision etcd reports after it.
    /// </summary>
    public async Task<long> ApplyRevisionAsync(Uri endpoint, IReadOnlyList<DeltaEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var txn = new TxnRequest();
        foreach (var e in events)
        {
            txn.Success.Add(e.Kind == DeltaEventKind.Put
                ? new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFrom(e.Key), Value = ByteString.CopyFrom(e.Value), Lease = e.Lease } }
                : new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFrom(e.Key) } });
        }

        var r = await CallAsync(endpoint, (m, o) => m.Kv.TxnAsync(txn, o), cancellationToken).ConfigureAwait(false);
        return r.Header?.Revision ?? 0;
    }

    /// <summary>Grants a lease with exactly <paramref name="id"/> and <paramref name="ttlSeconds"/>.</summary>
    public async Task LeaseGrantAsync(Uri endpoint, long id, long ttlSeconds, CancellationToken cancellationToken)
    {
        var r = await CallAsync(endpoint, (m, o) => m.Lease.LeaseGrantAsync(new LeaseGrantRequest { ID = id, TTL = ttlSeconds }, o), cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(r.Error))
        {
            throw new EtcdException(EtcdErrorKind.Server, $"etcd refused to grant lease {id:x}: {r.Error}");
        }
    }

    /// <summary>Every lease the member holds, with its granted TTL.</summary>
    public async Task<IReadOnlyList<EtcdLease>> ListLeasesAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var list = await CallAsync(endpoint, (m, o) => m.Lease.LeaseLeasesAsync(new LeaseLeasesRequest(), o), cancellationToken).ConfigureAwait(false);
        var leases = new List<EtcdLease>(list.Leases.Count);
        foreach (var lease in list.Leases)
        {
            var ttl = await CallAsync(endpoint, (m, o) => m.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease.ID }, o), cancellationToken).ConfigureAwait(false);
            if (ttl.TTL != -1)
            {
                leases.Add(new EtcdLease(lease.ID, ttl.GrantedTTL));
            }
        }

        return leases;
    }

    /// <summary>
    /// Opens a keep-alive stream: each <see cref="EtcdKeepAlive.RenewAsync"/> refreshes the given leases to their full TTL.
    /// </summary>
    public async Task<EtcdKeepAlive> KeepAliveAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var member = _channels.For(endpoint);
        var token = await TokenAsync(member, cancellationToken).ConfigureAwait(false);
        return new EtcdKeepAlive(member.Lease.LeaseKeepAlive(new CallOptions(Headers(token), null, cancellationToken)), endpoint);
    }
}

/// <summary>A lease keep-alive stream: renews leases and waits for etcd's answers, so a renewal that fails is known.</summary>
public sealed class EtcdKeepAlive : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> _call;
    private readonly Uri _endpoint;

    internal EtcdKeepAlive(AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> call, Uri endpoint)
    {
        _call = call;
        _endpoint = endpoint;
    }

    /// <summary>Renews every lease in <paramref name="ids"/>; throws when etcd no longer knows one (it expired).</summary>
    public async Task RenewAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        try
        {
            foreach (var id in ids)
            {
                await _call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }, cancellationToken).ConfigureAwait(false);
            }

            for (var i = 0; i < ids.Count; i++)
            {
                if (!await _call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    throw new EtcdException(EtcdErrorKind.Unreachable, $"{_endpoint.Authority} ended the lease keep-alive stream");
                }

                var answer = _call.ResponseStream.Current;
                if (answer.TTL <= 0)
                {
                    throw new EtcdException(EtcdErrorKind.Server, $"lease {answer.ID:x} expired before it could be renewed");
                }
            }
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw EtcdErrors.FromRpc(ex, _endpoint, Timeout.InfiniteTimeSpan);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or ObjectDisposedException)
        {
            // Already broken: nothing to close politely.
        }
        finally
        {
            _call.Dispose();
        }
    }
}
