using System.Collections.Concurrent;
using System.Text;
using Console.Domain.Clusters;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Console.Infrastructure.Etcd;

/// <summary>
/// etcd's v3 API for one cluster, through dotnet-etcd's generated clients on one gRPC channel per member endpoint.
/// Calls name the endpoint they go to, because the console often needs a specific member (status of each member, a
/// snapshot from a chosen follower); <see cref="OnAnyEndpointAsync{T}"/> tries the configured endpoints in turn.
/// Every call has a deadline. With credentials, a token is obtained per endpoint, sent as the <c>token</c> header,
/// and renewed once when etcd rejects it (simple tokens expire after <c>--auth-token-ttl</c>, 5 minutes by default).
/// </summary>
public sealed partial class EtcdClusterClient : IDisposable
{
    private readonly EtcdChannels _channels;
    private readonly TimeSpan _callTimeout;
    private readonly ConcurrentDictionary<Uri, string> _tokens = new();

    public EtcdClusterClient(ClusterSpec cluster, TimeSpan callTimeout)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        Cluster = cluster;
        _callTimeout = callTimeout;
        _channels = new EtcdChannels(cluster.Tls, callTimeout);
    }

    public ClusterSpec Cluster { get; }

    public async Task<EtcdMemberStatus> StatusAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var r = await CallAsync(endpoint, (e, o) => e.Maintenance.StatusAsync(new StatusRequest(), o), cancellationToken).ConfigureAwait(false);
        return new EtcdMemberStatus(
            r.Header?.MemberId ?? 0,
            r.Header?.ClusterId ?? 0,
            r.Version,
            r.DbSize,
            r.DbSizeInUse,
            r.Leader,
            r.RaftIndex,
            r.RaftTerm,
            r.Header?.Revision ?? 0,
            [.. r.Errors],
            r.IsLearner);
    }

    public async Task<IReadOnlyList<EtcdAlarm>> ListAlarmsAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var r = await CallAsync(endpoint, (e, o) => e.Maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }, o), cancellationToken).ConfigureAwait(false);
        return [.. r.Alarms.Select(a => new EtcdAlarm(a.MemberID, (EtcdAlarmType)(int)a.Alarm))];
    }

    public async Task<IReadOnlyList<EtcdMember>> ListMembersAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var r = await CallAsync(endpoint, (e, o) => e.Cluster.MemberListAsync(new MemberListRequest(), o), cancellationToken).ConfigureAwait(false);
        return [.. r.Members.Select(m => new EtcdMember(m.ID, m.Name, [.. m.PeerURLs], [.. m.ClientURLs], m.IsLearner))];
    }

    /// <summary>Counts keys under <paramref name="prefix"/> (all keys when empty), served by the member itself so it
    /// answers even without quorum.</summary>
    public async Task<long> CountKeysAsync(Uri endpoint, string prefix, CancellationToken cancellationToken)
    {
        var request = RangeOver(prefix);
        request.CountOnly = true;
        request.Serializable = true;
        var r = await CallAsync(endpoint, (e, o) => e.Kv.RangeAsync(request, o), cancellationToken).ConfigureAwait(false);
        return r.Count;
    }

    public async Task<string?> GetAsync(Uri endpoint, string key, CancellationToken cancellationToken)
    {
        var r = await CallAsync(endpoint, (e, o) => e.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, o), cancellationToken).ConfigureAwait(false);
        return r.Kvs.Count == 0 ? null : r.Kvs[0].Value.ToStringUtf8();
    }

    /// <summary>The hash of the member's whole key-value history up to its current revision (Maintenance.HashKV).</summary>
    public async Task<(uint Hash, long Revision, long CompactRevision)> HashKvAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var r = await CallAsync(endpoint, (e, o) => e.Maintenance.HashKVAsync(new HashKVRequest(), o), cancellationToken).ConfigureAwait(false);
        return (r.Hash, r.Header?.Revision ?? 0, r.CompactRevision);
    }

    /// <summary>Writes a key; returns the revision it created.</summary>
    public async Task<long> PutAsync(Uri endpoint, string key, string value, CancellationToken cancellationToken)
    {
        var request = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) };
        var r = await CallAsync(endpoint, (e, o) => e.Kv.PutAsync(request, o), cancellationToken).ConfigureAwait(false);
        return r.Header?.Revision ?? 0;
    }

    /// <summary>
    /// Streams a snapshot from <paramref name="endpoint"/> into <paramref name="sink"/>, never holding more than one
    /// message in memory, and verifies it (sha256 footer, size, clean end). The sink receives every byte, footer
    /// included, so what it stores is byte-identical to <c>etcdctl snapshot save</c>.
    /// </summary>
    public async Task<SnapshotResult> SnapshotAsync(Uri endpoint, ISnapshotSink sink, IProgress<SnapshotProgress>? progress, SnapshotOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        var member = _channels.For(endpoint);
        var token = await TokenAsync(member, cancellationToken).ConfigureAwait(false);
        try
        {
            return await SnapshotStream.ReadAsync(member, Headers(token), sink, progress, options, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException ex) when (token is not null && ex.GrpcStatus == EtcdErrors.UnauthenticatedCode)
        {
            // The token expired before the stream started (errors after the first byte carry no status): start over once.
            _tokens.TryRemove(endpoint, out _);
            token = await TokenAsync(member, cancellationToken).ConfigureAwait(false);
            return await SnapshotStream.ReadAsync(member, Headers(token), sink, progress, options, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/> against the configured endpoints in order until one succeeds. When all fail, the
    /// error names every endpoint and why it failed.
    /// </summary>
    public async Task<(Uri Endpoint, T Result)> OnAnyEndpointAsync<T>(Func<Uri, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var failures = new List<EtcdException>();
        foreach (var endpoint in Cluster.Endpoints)
        {
            try
            {
                return (endpoint, await call(endpoint, cancellationToken).ConfigureAwait(false));
            }
            catch (EtcdException ex)
            {
                failures.Add(ex);
            }
        }

        if (failures.Count == 1)
        {
            throw failures[0];
        }

        var kind = failures.Select(f => f.Kind).Distinct().Count() == 1 ? failures[0].Kind : EtcdErrorKind.Unreachable;
        throw new EtcdException(kind, "no endpoint answered: " + string.Join("; ", failures.Select(f => f.Message)));
    }

    private async Task<TResponse> CallAsync<TResponse>(Uri endpoint, Func<EtcdEndpoint, CallOptions, AsyncUnaryCall<TResponse>> call, CancellationToken cancellationToken)
    {
        var member = _channels.For(endpoint);
        var token = await TokenAsync(member, cancellationToken).ConfigureAwait(false);
        try
        {
            return await UnaryAsync(member, call, token, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException ex) when (token is not null && ex.GrpcStatus == EtcdErrors.UnauthenticatedCode)
        {
            // "invalid auth token": simple tokens expire (after --auth-token-ttl without use); get a fresh one once.
            _tokens.TryRemove(endpoint, out _);
            token = await TokenAsync(member, cancellationToken).ConfigureAwait(false);
            return await UnaryAsync(member, call, token, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<TResponse> UnaryAsync<TResponse>(EtcdEndpoint member, Func<EtcdEndpoint, CallOptions, AsyncUnaryCall<TResponse>> call, string? token, CancellationToken cancellationToken)
    {
        var options = new CallOptions(Headers(token), DateTime.UtcNow + _callTimeout, cancellationToken);
        try
        {
            using var pending = call(member, options);
            return await pending.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"the call to {member.Address.Authority} was cancelled", ex, cancellationToken);
        }
        catch (RpcException ex)
        {
            throw EtcdErrors.FromRpc(ex, member.Address, _callTimeout);
        }
    }

    private static Metadata? Headers(string? token) => token is null ? null : new Metadata { { "token", token } };

    private async Task<string?> TokenAsync(EtcdEndpoint member, CancellationToken cancellationToken)
    {
        if (Cluster.Credentials is not { } credentials)
        {
            return null;
        }

        if (_tokens.TryGetValue(member.Address, out var cached))
        {
            return cached;
        }

        var request = new AuthenticateRequest { Name = credentials.User, Password = credentials.Password };
        try
        {
            var r = await UnaryAsync(member, (e, o) => e.Auth.AuthenticateAsync(request, o), null, cancellationToken).ConfigureAwait(false);
            _tokens[member.Address] = r.Token;
            return r.Token;
        }
        catch (EtcdException ex) when (ex.Message.Contains("authentication is not enabled", StringComparison.OrdinalIgnoreCase))
        {
            // Credentials configured for a cluster without auth: carry on without a token.
            return null;
        }
    }

    private static RangeRequest RangeOver(string prefix)
    {
        if (prefix.Length == 0)
        {
            // key "\0" with range_end "\0" means every key.
            return new RangeRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0) };
        }

        var key = Encoding.UTF8.GetBytes(prefix);
        var end = (byte[])key.Clone();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                Array.Resize(ref end, i + 1);
                return new RangeRequest { Key = ByteString.CopyFrom(key), RangeEnd = ByteString.CopyFrom(end) };
            }
        }

        return new RangeRequest { Key = ByteString.CopyFrom(key), RangeEnd = ByteString.CopyFrom(0) };
    }

    public void Dispose() => _channels.Dispose();
}
