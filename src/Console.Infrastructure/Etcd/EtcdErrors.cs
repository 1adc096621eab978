using System.Net.Sockets;
using System.Security.Authentication;
using Grpc.Core;

namespace Console.Infrastructure.Etcd;

/// <summary>Turns gRPC failures (etcd's statuses and the transport's exceptions) into <see cref="EtcdException"/>s an operator can act on.</summary>
internal static class EtcdErrors
{
    public const int Ok = 0;
    public const int DeadlineExceededCode = 4;
    public const int PermissionDeniedCode = 7;
    public const int ResourceExhaustedCode = 8;
    public const int UnavailableCode = 14;
    public const int UnauthenticatedCode = 16;

    /// <summary>
    /// A failed call: a deadline the client enforced, a transport failure (Grpc.Net.Client keeps the exception it
    /// caught as the status's DebugException: refused, TLS, cut connection), or a status etcd sent.
    /// </summary>
    public static EtcdException FromRpc(RpcException exception, Uri endpoint, TimeSpan deadline)
    {
        var status = exception.Status;
        if (status.StatusCode == StatusCode.DeadlineExceeded && status.DebugException is null)
        {
            return new(EtcdErrorKind.DeadlineExceeded, $"{endpoint.Authority} did not answer within {deadline.TotalSeconds:0.#} s (deadline exceeded)", endpoint, DeadlineExceededCode, exception);
        }

        if (status.DebugException is { } transport)
        {
            return FromException(transport, endpoint, deadline, deadlineHit: false);
        }

        if (status.Detail.StartsWith("Bad gRPC response", StringComparison.Ordinal))
        {
            // Not a gRPC server at all (an HTTP status without grpc-status, or another content type).
            return new(EtcdErrorKind.Protocol, $"{endpoint.Authority} did not answer as gRPC ({status.Detail}): is this an etcd client URL?", endpoint, (int)status.StatusCode, exception);
        }

        return FromStatus((int)status.StatusCode, status.Detail, endpoint);
    }

    public static EtcdException FromStatus(int code, string message, Uri endpoint)
    {
        var where = endpoint.Authority;
        if (message.Contains("no leader", StringComparison.OrdinalIgnoreCase))
        {
            return new(EtcdErrorKind.NoLeader, $"{where} has no leader: the cluster has lost quorum ({message})", endpoint, code);
        }

        if (message.Contains("database space exceeded", StringComparison.OrdinalIgnoreCase) || message.Contains("corrupt", StringComparison.OrdinalIgnoreCase))
        {
            return new(EtcdErrorKind.AlarmActive, $"{where} refused the request because an alarm is active: {message}", endpoint, code);
        }

        if (message.Contains("authentication failed", StringComparison.OrdinalIgnoreCase))
        {
            return new(EtcdErrorKind.AuthFailed, $"authentication failed at {where}: wrong user name or password ({message})", endpoint, code);
        }

        if (message.Contains("user name is empty", StringComparison.OrdinalIgnoreCase))
        {
            return new(EtcdErrorKind.AuthFailed, $"{where} requires authentication: set Auth.User and Auth.Password for this cluster ({message})", endpoint, code);
        }

        return code switch
        {
            UnauthenticatedCode => new(EtcdErrorKind.AuthFailed, $"{where} rejected the auth token: {message}", endpoint, code),
            PermissionDeniedCode => new(EtcdErrorKind.PermissionDenied, $"{where} denied the request: the user lacks the required role ({message})", endpoint, code),
            DeadlineExceededCode => new(EtcdErrorKind.DeadlineExceeded, $"{where} did not answer in time: {message}", endpoint, code),
            _ => new(EtcdErrorKind.Server, $"{where} returned an error (gRPC status {code}): {message}", endpoint, code),
        };
    }

    public static EtcdException FromException(Exception exception, Uri endpoint, TimeSpan deadline, bool deadlineHit)
    {
        var where = endpoint.Authority;
        if (exception is EtcdException etcd)
        {
            return etcd;
        }

        if (deadlineHit)
        {
            return new(EtcdErrorKind.DeadlineExceeded, $"{where} did not answer within {deadline.TotalSeconds:0.#} s (deadline exceeded)", endpoint, DeadlineExceededCode, exception);
        }

        if (Find<AuthenticationException>(exception) is { } tls)
        {
            return new(EtcdErrorKind.Tls, $"TLS handshake with {where} failed: {Sentence(Innermost(tls).Message)}. Check Tls.CaFile (the CA that signed the server certificate), that the endpoint's host name is in the certificate, and Tls.CertFile/KeyFile if the server requires client certificates.", endpoint, null, exception);
        }

        if (Find<SocketException>(exception) is { } socket)
        {
            var reason = socket.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused (is etcd running and listening on this address?)",
                SocketError.HostNotFound or SocketError.NoData => "host name not found",
                SocketError.HostUnreachable or SocketError.NetworkUnreachable => "no route to host",
                SocketError.TimedOut => "connection timed out",
                _ => socket.Message,
            };
            return new(EtcdErrorKind.Unreachable, $"cannot reach {where}: {reason}", endpoint, null, exception);
        }

        if (endpoint.Scheme == Uri.UriSchemeHttps && Find<IOException>(exception) is { } closed)
        {
            // Over TLS 1.3 a server that requires a client certificate accepts the handshake and then closes the
            // connection with an alert, which surfaces as an I/O error on the first read or write (the innermost
            // exception is then only "cannot access a disposed object": the outermost I/O error says more).
            return new(EtcdErrorKind.Tls, $"TLS connection to {where} was closed by the server: {Sentence(closed.Message)}. If the server requires client certificates, set Tls.CertFile and Tls.KeyFile.", endpoint, null, exception);
        }

        if (exception is HttpRequestException { StatusCode: { } status })
        {
            return new(EtcdErrorKind.Protocol, $"{where} answered HTTP {(int)status} {status}, not gRPC: is this an etcd client URL?", endpoint, null, exception);
        }

        if (exception is HttpRequestException or HttpIOException or IOException)
        {
            var detail = exception.Message.Contains("HTTP/1.1", StringComparison.Ordinal) || exception.Message.Contains("HTTP_1_1", StringComparison.Ordinal)
                ? "it does not speak HTTP/2 (gRPC); is this an etcd client URL, and does the scheme (http/https) match?"
                : Innermost(exception).Message;
            return new(EtcdErrorKind.Unreachable, $"cannot talk to {where}: {detail}", endpoint, null, exception);
        }

        return new(EtcdErrorKind.Protocol, $"unexpected failure talking to {where}: {exception.Message}", endpoint, null, exception);
    }

    private static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }

        return null;
    }

    /// <summary>An exception's message without its closing full stop, to be followed by ours.</summary>
    private static string Sentence(string message) => message.TrimEnd().TrimEnd('.');

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
