using System.Collections.Concurrent;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Etcd;

/// <summary>One <see cref="EtcdClient"/> (and so one connection pool and token cache) per cluster definition.</summary>
public sealed class EtcdClientFactory : IDisposable
{
    private readonly ConcurrentDictionary<ClusterName, EtcdClient> _clients = new();
    private readonly TimeSpan _callTimeout;

    public EtcdClientFactory(IOptions<ConsoleSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _callTimeout = settings.Value.Etcd.CallTimeout;
    }

    public EtcdClient For(ClusterSpec cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        while (true)
        {
            var client = _clients.GetOrAdd(cluster.Name, _ => new EtcdClient(cluster, _callTimeout));
            if (ReferenceEquals(client.Cluster, cluster) || client.Cluster == cluster)
            {
                return client;
            }

            // The cluster was re-registered with other settings: replace its client.
            if (_clients.TryRemove(new KeyValuePair<ClusterName, EtcdClient>(cluster.Name, client)))
            {
                client.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _clients.Clear();
    }
}
