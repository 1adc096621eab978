using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Console.Domain.Clusters;

namespace Console.Infrastructure.Etcd;

/// <summary>Builds the HTTP/2 handler for one cluster: connection limits, keep-alive pings and the cluster's TLS material.</summary>
internal static class EtcdHttpHandlerFactory
{
    public static SocketsHttpHandler Create(TlsSpec? tls, TimeSpan connectTimeout)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = connectTimeout,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,

            // Snapshots stream hundreds of MB; a large initial window lets etcd send without waiting for window updates.
            InitialHttp2StreamWindowSize = 8 * 1024 * 1024,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseProxy = false,
        };

        if (tls is null)
        {
            return handler;
        }

        var ssl = new SslClientAuthenticationOptions
        {
            ApplicationProtocols = [SslApplicationProtocol.Http2],
        };

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

        handler.SslOptions = ssl;
        return handler;
    }

    private static X509Certificate2 LoadClientCertificate(string certFile, string keyFile)
    {
        using var ephemeral = X509Certificate2.CreateFromPemFile(certFile, keyFile);

        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

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
}
