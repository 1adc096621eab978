using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Console.Web.Tests.Fixtures;

/// <summary>
/// A TCP proxy on loopback to one upstream that passes the upstream's answers on at a bounded rate per connection, so a
/// snapshot streams slowly enough to watch (requests go through as fast as they come). Closes every connection on dispose.
/// </summary>
public sealed class SlowProxy : IAsyncDisposable
{
    private const int Chunk = 16 * 1024;

    private readonly TcpListener _listener;
    private readonly Uri _upstream;
    private readonly long _bytesPerSecond;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<TcpClient> _connections = [];
    private readonly Task _accepting;

    public SlowProxy(int port, Uri upstream, long bytesPerSecond)
    {
        _upstream = upstream;
        _bytesPerSecond = bytesPerSecond;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{port}");
        _accepting = AcceptAsync();
    }

    public Uri Address { get; }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _connections.Add(client);
                _ = RelayAsync(client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        _connections.Add(upstream);
        try
        {
            await upstream.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
            var (down, up) = (client.GetStream(), upstream.GetStream());
            await Task.WhenAny(CopyAsync(down, up, null), CopyAsync(up, down, _bytesPerSecond));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
        }
    }

    private async Task CopyAsync(Stream from, Stream to, long? bytesPerSecond)
    {
        var buffer = new byte[Chunk];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                if (bytesPerSecond is { } rate)
                {
                    await Task.Delay(TimeSpan.FromSeconds((double)read / rate), _stop.Token);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }

        await _accepting;
        _stop.Dispose();
    }
}
