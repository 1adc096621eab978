using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Console.Domain.Clusters;
using Etcdserverpb;
using Grpc.Net.Client;

namespace Console.Infrastructure.Etcd;

/// <summary>
/// One gRPC channel per member endpoint, with dotnet-etcd's generated clients on it. The console talks to a chosen
/// member (the status of each one, a snapshot from a follower), so it addresses endpoints itself instead of letting
/// a client balance between them.
/// </summary>
internal sealed class EtcdChannels(TlsSpec? tls, TimeSpan connectTimeout) : IDisposable
{
    /// <summary>Snapshot chunks are 32 KiB and member lists small; anything near this means the stream is not etcd's.</summary>
    private const int MaxMessageSize = 64 * 1024 * 1024;

    private readonly ConcurrentDictionary<Uri, Lazy<EtcdEndpoint>> _endpoints = new();
    private readonly Lazy<SslClientAuthenticationOptions?> _ssl = new(() => SslOptions(tls));

    public EtcdEndpoint For(Uri endpoint) =>
        _endpoints.GetOrAdd(endpoint, e => new Lazy<EtcdEndpoint>(() => Open(e))).Value;

    private EtcdEndpoint Open(Uri endpoint)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = connectTimeout,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),

            // A member that stops answering is noticed even while a stream is open.
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,

            // Snapshots stream hundreds of MB; a large window lets etcd send without waiting for window updates.
            InitialHttp2StreamWindowSize = 8 * 1024 * 1024,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseProxy = false,
        };
        if (_ssl.Value is { } ssl)
        {
            handler.SslOptions = ssl;
        }

        var channel = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = MaxMessageSize,
        });
        return new EtcdEndpoint(endpoint, channel);
    }

    private static SslClientAuthenticationOptions? SslOptions(TlsSpec? tls)
    {
        if (tls is null)
        {
            return null;
        }

        var ssl = new SslClientAuthenticationOptions { ApplicationProtocols = [SslApplicationProtocol.Http2] };
        if (tls.CertFile is not null && tls.KeyFile is not null)
        {
            ssl.ClientCertificates = [LoadClientCertificate(tls.CertFile, tls.KeyFile)];
        }

        if (tls.CaFile is not null)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(tls.CaFile);
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ValidateAgainst(roots, certificate, errors);
        }

        return ssl;
    }

    private static X509Certificate2 LoadClientCertificate(string certFile, string keyFile)
    {
        using var ephemeral = X509Certificate2.CreateFromPemFile(certFile, keyFile);

        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>The server's chain must end at the configured CA (not the machine's store), and the name must match.</summary>
    private static bool ValidateAgainst(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var server = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(server);
    }

    public void Dispose()
    {
        foreach (var endpoint in _endpoints.Values.Where(e => e.IsValueCreated))
        {
            endpoint.Value.Dispose();
        }

        _endpoints.Clear();
    }
}

/// <summary>The channel to one member and dotnet-etcd's generated clients on it.</summary>
internal sealed class EtcdEndpoint(Uri address, GrpcChannel channel) : IDisposable
{
    public Uri Address { get; } = address;

    public KV.KVClient Kv { get; } = new(channel);

    public Maintenance.MaintenanceClient Maintenance { get; } = new(channel);

    public Cluster.ClusterClient Cluster { get; } = new(channel);

    public Auth.AuthClient Auth { get; } = new(channel);

    public Watch.WatchClient Watch { get; } = new(channel);

    public Lease.LeaseClient Lease { get; } = new(channel);

    public void Dispose() => channel.Dispose();
}
