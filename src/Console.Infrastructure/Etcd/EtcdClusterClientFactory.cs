using System.Collections.Concurrent;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Etcd;

/// <summary>One <see cref="EtcdClusterClient"/> (and so one connection pool and token cache) per cluster definition.</summary>
public sealed class EtcdClusterClientFactory : IDisposable
{
    private readonly ConcurrentDictionary<ClusterName, EtcdClusterClient> _clients = new();
    private readonly TimeSpan _callTimeout;

    public EtcdClusterClientFactory(IOptions<ConsoleSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _callTimeout = settings.Value.Etcd.CallTimeout;
    }

    public EtcdClusterClient For(ClusterSpec cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        while (true)
        {
            var client = _clients.GetOrAdd(cluster.Name, _ => new EtcdClusterClient(cluster, _callTimeout));
            if (SameConnection(client.Cluster, cluster))
            {
                return client;
            }

            // The cluster's connection settings changed: replace its client. Calls may still be running on the old one
            // (a backup streaming), so it is disposed only after they have had ample time to finish.
            if (_clients.TryRemove(new KeyValuePair<ClusterName, EtcdClusterClient>(cluster.Name, client)))
            {
                _ = Task.Delay(TimeSpan.FromHours(2)).ContinueWith(_ => client.Dispose(), TaskScheduler.Default);
            }
        }
    }

    /// <summary>Backup settings (pause, schedule) change often and do not affect how the cluster is reached.</summary>
    private static bool SameConnection(ClusterSpec current, ClusterSpec wanted) =>
        ReferenceEquals(current, wanted)
        || (current.Name == wanted.Name && current.Endpoints.SequenceEqual(wanted.Endpoints) && current.Tls == wanted.Tls && current.Credentials == wanted.Credentials);

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _clients.Clear();
    }
}
