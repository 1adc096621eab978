using System.Net.Sockets;

namespace Console.Infrastructure.Restore;

/// <summary>
/// Proves a member down the one way that holds whatever etcd calls it: nothing accepts a connection on its own client
/// and peer URLs. A status call through the cluster's endpoints only shows who answers there, and a member that lost
/// its clients but still talks to its peers is not down either.
/// </summary>
public static class MemberProbe
{
    /// <returns>Null when every URL refuses the connection (or its host is unreachable); otherwise why the member is not proven down.</returns>
    public static async Task<string?> WhyNotDownAsync(IEnumerable<Uri> urls, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(urls);
        foreach (var url in urls.DistinctBy(u => u.GetLeftPart(UriPartial.Authority)))
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            try
            {
                await socket.ConnectAsync(url.Host, url.Port, limit.Token).ConfigureAwait(false);
                return $"{url.Authority} still accepts connections";
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable)
            {
                // Nothing listens there.
            }
            catch (SocketException ex)
            {
                return $"{url.Authority} could not be checked ({ex.SocketErrorCode})";
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return $"{url.Authority} neither answered nor refused within {timeout.TotalSeconds:0} s";
            }
        }

        return null;
    }
}
