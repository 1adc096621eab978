using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Amazon.Runtime;

namespace Console.Web.Tests.Fixtures;

/// <summary>
/// The S3 client's HTTP for tests (AmazonS3Config.HttpClientFactory): every request goes to the real server (s3rver)
/// and is recorded with its headers, as sent on the wire after signing. s3rver ignores Object Lock and server-side
/// encryption, so what these tests can prove is that the right headers are sent. <see cref="Refuse"/> makes requests
/// matching a rule get a real S3 error answer instead (e.g. a DELETE of a locked object: 403 AccessDenied).
/// </summary>
public sealed class RecordingS3Http : HttpClientFactory
{
    private readonly ConcurrentQueue<SentRequest> _sent = new();
    private readonly ConcurrentBag<(Func<SentRequest, bool> Matches, Func<HttpResponseMessage> Answer)> _refusals = [];

    public IReadOnlyList<SentRequest> Sent => [.. _sent];

    /// <summary>Requests matching <paramref name="matches"/> are answered with an S3 error XML body and never reach the server.</summary>
    public void Refuse(Func<SentRequest, bool> matches, HttpStatusCode status, string code, string message) =>
        Answer(matches, () => new HttpResponseMessage(status)
        {
            Content = new StringContent(
                $"""<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>test</RequestId><HostId>test</HostId></Error>""",
                Encoding.UTF8,
                "application/xml"),
        });

    /// <summary>Requests matching <paramref name="matches"/> get this answer (e.g. a HEAD with lock headers s3rver never sends).</summary>
    public void Answer(Func<SentRequest, bool> matches, Func<HttpResponseMessage> answer) => _refusals.Add((matches, answer));

    public void ClearRefusals() => _refusals.Clear();

    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Recorder(this, new SocketsHttpHandler()));

    // One client per S3 client is enough; a fresh one per request would lose nothing but time.
    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => true;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

    private sealed class Recorder(RecordingS3Http owner, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>()))
            {
                headers[name] = string.Join(",", values);
            }

            var sent = new SentRequest(request.Method.Method, Uri.UnescapeDataString(request.RequestUri!.AbsolutePath), request.RequestUri.Query, headers);
            owner._sent.Enqueue(sent);
            foreach (var refusal in owner._refusals)
            {
                if (refusal.Matches(sent))
                {
                    var response = refusal.Answer();
                    response.RequestMessage = request;
                    return response;
                }
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>One request as sent: method, unescaped path (/bucket/key), query string and every header (request and content).</summary>
public sealed record SentRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.GetValueOrDefault(name);

    public bool Is(string method, string key) => Method == method && Path.EndsWith("/" + key, StringComparison.Ordinal);
}
