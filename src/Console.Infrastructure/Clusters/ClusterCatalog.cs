using System.Collections.Immutable;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Clusters;

/// <summary>
/// The clusters the console manages: those from configuration plus any registered at run time (the sandbox), each
/// with the backup settings changed in the console applied on top (<see cref="BackupOverride"/>). Reads are
/// lock-free snapshots of the effective specs.
/// </summary>
public sealed class ClusterCatalog
{
    private readonly Lock _gate = new();
    private ImmutableList<ClusterSpec> _base;
    private ImmutableDictionary<string, BackupOverride> _overrides = ImmutableDictionary<string, BackupOverride>.Empty;
    private ImmutableList<ClusterSpec> _effective;

    public ClusterCatalog(IOptions<ConsoleSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _base = [.. settings.Value.Clusters.Select(ClusterSpecParser.Parse)];
        _effective = _base;
    }

    public event Action? Changed;

    public IReadOnlyList<ClusterSpec> All => _effective;

    public ClusterSpec? Find(string name) => _effective.Find(c => c.Name.Value == name);

    /// <summary>The cluster as configured, before console-side overrides.</summary>
    public ClusterSpec? FindConfigured(string name) => _base.Find(c => c.Name.Value == name);

    public BackupOverride? OverrideFor(string name) => _overrides.GetValueOrDefault(name);

    /// <summary>Adds a cluster, or replaces the one with the same name.</summary>
    public void Register(ClusterSpec cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        lock (_gate)
        {
            var existing = _base.FindIndex(c => c.Name == cluster.Name);
            _base = existing >= 0 ? _base.SetItem(existing, cluster) : _base.Add(cluster);
            Recompute();
        }

        Changed?.Invoke();
    }

    /// <summary>Sets (or with null, removes) the console-side override of one cluster's backup settings.</summary>
    public void SetOverride(string cluster, BackupOverride? value)
    {
        lock (_gate)
        {
            _overrides = value is null ? _overrides.Remove(cluster) : _overrides.SetItem(cluster, value);
            Recompute();
        }

        Changed?.Invoke();
    }

    public void SetOverrides(IReadOnlyDictionary<string, BackupOverride> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        lock (_gate)
        {
            _overrides = overrides.ToImmutableDictionary(StringComparer.Ordinal);
            Recompute();
        }

        Changed?.Invoke();
    }

    private void Recompute() =>
        _effective = [.. _base.Select(c => _overrides.TryGetValue(c.Name.Value, out var o) ? c with { Backup = o.ApplyTo(c.Backup) } : c)];
}
