using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Console.Web.Tests.Fixtures;

/// <summary>
/// A webhook receiver on a free loopback port (HttpListener): records every POST and answers with the status
/// <see cref="Answer"/> gives for the request's number (1-based), 200 by default.
/// </summary>
public sealed class AlertReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<(string Path, string Body)> _received = new();
    private readonly Task _loop;
    private int _count;

    public AlertReceiver()
    {
        for (var attempt = 1; ; attempt++)
        {
            Port = Console.Infrastructure.Sandbox.FreePorts.Pick(1)[0];
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }

        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    /// <summary>The status to answer request number n with.</summary>
    public Func<int, HttpStatusCode> Answer { get; set; } = _ => HttpStatusCode.OK;

    /// <summary>A URL on this receiver whose path and query are the secret a webhook carries.</summary>
    public string Url(string secret) => $"http://127.0.0.1:{Port}/hooks/{secret}?sig={secret}-sig";

    public IReadOnlyList<(string Path, string Body)> Received => [.. _received];

    /// <summary>The JSON bodies received, parsed.</summary>
    public IReadOnlyList<JsonElement> Json => [.. _received.Select(r => JsonDocument.Parse(r.Body).RootElement.Clone())];

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
            {
                var body = await reader.ReadToEndAsync();
                var number = Interlocked.Increment(ref _count);
                _received.Enqueue((context.Request.Url!.PathAndQuery, body));
                context.Response.StatusCode = (int)Answer(number);
            }

            context.Response.Close();
        }
    }

    public void Dispose()
    {
        if (!_listener.IsListening)
        {
            return;
        }

        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
