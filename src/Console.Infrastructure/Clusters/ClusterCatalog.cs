using System.Collections.Immutable;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Clusters;

/// <summary>
/// The clusters the console manages: those from configuration plus any registered at run time (the sandbox).
/// Reads are lock-free snapshots.
/// </summary>
public sealed class ClusterCatalog
{
    private ImmutableList<ClusterSpec> _clusters;

    public ClusterCatalog(IOptions<ConsoleSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _clusters = [.. settings.Value.Clusters.Select(ClusterSpecParser.Parse)];
    }

    public event Action? Changed;

    public IReadOnlyList<ClusterSpec> All => _clusters;

    public ClusterSpec? Find(string name) => _clusters.Find(c => c.Name.Value == name);

    /// <summary>Adds a cluster, or replaces the one with the same name.</summary>
    public void Register(ClusterSpec cluster)
    {
        ImmutableInterlocked.Update(ref _clusters, list =>
        {
            var existing = list.FindIndex(c => c.Name == cluster.Name);
            return existing >= 0 ? list.SetItem(existing, cluster) : list.Add(cluster);
        });
        Changed?.Invoke();
    }
}
