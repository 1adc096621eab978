using System.Collections.Concurrent;
using System.Text;
using Console.Domain.Clusters;
using Console.Infrastructure.Etcd.Protocol;
using Google.Protobuf;

namespace Console.Infrastructure.Etcd;

/// <summary>
/// etcd's v3 API for one cluster. Calls name the endpoint they go to, because the console often needs a specific
/// member (status of each member, a snapshot from a chosen follower); <see cref="OnAnyEndpointAsync{T}"/> tries the
/// configured endpoints in turn. With credentials, a token is obtained per endpoint and renewed once when rejected.
/// </summary>
public sealed class EtcdClusterClient : IDisposable
{
    private readonly EtcdGrpcChannel _channel;
    private readonly ConcurrentDictionary<Uri, string> _tokens = new();

    public EtcdClusterClient(ClusterSpec cluster, TimeSpan callTimeout)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        Cluster = cluster;
        _channel = new EtcdGrpcChannel(EtcdHttpHandlerFactory.Create(cluster.Tls, callTimeout), callTimeout);
    }

    public ClusterSpec Cluster { get; }

    public async Task<EtcdMemberStatus> StatusAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var r = await CallAsync(endpoint, "/etcdserverpb.Maintenance/Status", new StatusRequest(), StatusResponse.Parser, cancellationToken).ConfigureAwait(false);
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
        var r = await CallAsync(endpoint, "/etcdserverpb.Maintenance/Alarm", new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }, AlarmResponse.Parser, cancellationToken).ConfigureAwait(false);
        return [.. r.Alarms.Select(a => new EtcdAlarm(a.MemberId, (EtcdAlarmType)(int)a.Alarm))];
    }

    public async Task<IReadOnlyList<EtcdMember>> ListMembersAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var r = await CallAsync(endpoint, "/etcdserverpb.Cluster/MemberList", new MemberListRequest(), MemberListResponse.Parser, cancellationToken).ConfigureAwait(false);
        return [.. r.Members.Select(m => new EtcdMember(m.Id, m.Name, [.. m.PeerUrls], [.. m.ClientUrls], m.IsLearner))];
    }

    /// <summary>Counts keys under <paramref name="prefix"/> (all keys when empty), served by the member itself so it
    /// answers even without quorum.</summary>
    public async Task<long> CountKeysAsync(Uri endpoint, string prefix, CancellationToken cancellationToken)
    {
        var request = RangeOver(prefix);
        request.CountOnly = true;
        request.Serializable = true;
        var r = await CallAsync(endpoint, "/etcdserverpb.KV/Range", request, RangeResponse.Parser, cancellationToken).ConfigureAwait(false);
        return r.Count;
    }

    public async Task<string?> GetAsync(Uri endpoint, string key, CancellationToken cancellationToken)
    {
        var r = await CallAsync(endpoint, "/etcdserverpb.KV/Range", new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, RangeResponse.Parser, cancellationToken).ConfigureAwait(false);
        return r.Kvs.Count == 0 ? null : r.Kvs[0].Value.ToStringUtf8();
    }

    /// <summary>The hash of the member's whole key-value history up to its current revision (Maintenance.HashKV).</summary>
    public async Task<(uint Hash, long Revision, long CompactRevision)> HashKvAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var r = await CallAsync(endpoint, "/etcdserverpb.Maintenance/HashKV", new HashKVRequest(), HashKVResponse.Parser, cancellationToken).ConfigureAwait(false);
        return (r.Hash, r.Header?.Revision ?? 0, r.CompactRevision);
    }

    /// <summary>Writes a key; returns the revision it created.</summary>
    public async Task<long> PutAsync(Uri endpoint, string key, string value, CancellationToken cancellationToken)
    {
        var request = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) };
        var r = await CallAsync(endpoint, "/etcdserverpb.KV/Put", request, PutResponse.Parser, cancellationToken).ConfigureAwait(false);
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
        var token = await TokenAsync(endpoint, cancellationToken).ConfigureAwait(false);
        using var verifier = new SnapshotVerifier();
        long? total = null;
        long? revision = null;
        await _channel.ServerStreamAsync(endpoint, "/etcdserverpb.Maintenance/Snapshot", new SnapshotRequest(), token, options.IdleTimeout, options.Deadline, async message =>
        {
            var (remaining, headerRevision, blob) = SnapshotResponseReader.Read(message);
            revision ??= headerRevision;
            if (total is null && remaining is { } r)
            {
                // remaining_bytes counts what is left after this message, excluding the 32-byte footer message.
                total = verifier.Length + blob.Length + (long)r + SnapshotVerifier.FooterSize;
            }

            verifier.Append(blob.Span);
            await sink.WriteAsync(blob, cancellationToken).ConfigureAwait(false);
            progress?.Report(new SnapshotProgress(verifier.Length, total));
        }, cancellationToken).ConfigureAwait(false);

        return new SnapshotResult(verifier.Length, verifier.Complete(), revision);
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

    private async Task<TResponse> CallAsync<TResponse>(Uri endpoint, string method, IMessage request, MessageParser<TResponse> parser, CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        var token = await TokenAsync(endpoint, cancellationToken).ConfigureAwait(false);
        try
        {
            return await _channel.UnaryAsync(endpoint, method, request, parser, token, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException ex) when (token is not null && ex.GrpcStatus == EtcdErrors.UnauthenticatedCode)
        {
            // Simple tokens expire (5 minutes by default); get a fresh one once.
            _tokens.TryRemove(endpoint, out _);
            token = await TokenAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return await _channel.UnaryAsync(endpoint, method, request, parser, token, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string?> TokenAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        if (Cluster.Credentials is not { } credentials)
        {
            return null;
        }

        if (_tokens.TryGetValue(endpoint, out var cached))
        {
            return cached;
        }

        var request = new AuthenticateRequest { Name = credentials.User, Password = credentials.Password };
        try
        {
            var r = await _channel.UnaryAsync(endpoint, "/etcdserverpb.Auth/Authenticate", request, AuthenticateResponse.Parser, null, cancellationToken).ConfigureAwait(false);
            _tokens[endpoint] = r.Token;
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

    public void Dispose() => _channel.Dispose();
}
