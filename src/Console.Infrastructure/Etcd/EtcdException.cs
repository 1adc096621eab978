namespace Console.Infrastructure.Etcd;

/// <summary>The kinds of failure an operator needs to tell apart.</summary>
public enum EtcdErrorKind
{
    /// <summary>Nothing accepted the connection (refused, no route, DNS).</summary>
    Unreachable,
    /// <summary>The TLS handshake failed: untrusted certificate, wrong host name, or a client certificate was required.</summary>
    Tls,
    /// <summary>Wrong or missing user/password, or an expired token that could not be renewed.</summary>
    AuthFailed,
    /// <summary>The user is authenticated but lacks the role this call needs.</summary>
    PermissionDenied,
    /// <summary>The call did not complete within its deadline.</summary>
    DeadlineExceeded,
    /// <summary>The member answered but has no leader (lost quorum).</summary>
    NoLeader,
    /// <summary>An alarm (NOSPACE, CORRUPT) refuses the request.</summary>
    AlarmActive,
    /// <summary>The response was not the gRPC we expected (not etcd, proxy in the way, stream cut).</summary>
    Protocol,
    /// <summary>Any other error etcd reported.</summary>
    Server,
}

/// <summary>An etcd call failed; <see cref="Exception.Message"/> is written for an operator.</summary>
public sealed class EtcdException : Exception
{
    public EtcdException(EtcdErrorKind kind, string message, Uri? endpoint = null, int? grpcStatus = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Endpoint = endpoint;
        GrpcStatus = grpcStatus;
    }

    public EtcdException()
        : this(EtcdErrorKind.Server, "etcd call failed")
    {
    }

    public EtcdException(string message)
        : this(EtcdErrorKind.Server, message)
    {
    }

    public EtcdException(string message, Exception innerException)
        : this(EtcdErrorKind.Server, message, null, null, innerException)
    {
    }

    public EtcdErrorKind Kind { get; }

    public Uri? Endpoint { get; }

    public int? GrpcStatus { get; }
}
