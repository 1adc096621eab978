using Console.Domain.Clusters;
using Console.Infrastructure.Etcd;

namespace Console.Infrastructure.Clusters;

/// <summary>Asks one cluster for everything the status page shows: member list, each member's status, alarms, key count.</summary>
public sealed class ClusterProbe(EtcdClusterClientFactory clients, TimeProvider clock)
{
    public async Task<ClusterHealth> ProbeAsync(ClusterSpec cluster, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var client = clients.For(cluster);

        Uri reachable;
        IReadOnlyList<EtcdMember> members;
        try
        {
            (reachable, members) = await client.OnAnyEndpointAsync(client.ListMembersAsync, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException ex)
        {
            return ClusterHealth.Unreachable(cluster.Name, clock.GetUtcNow(), [ex.Message]);
        }

        var statuses = new Dictionary<ulong, EtcdMemberStatus>();
        var errors = new Dictionary<ulong, string>();
        var probes = members.Where(m => m.HasStarted).Select(async member =>
        {
            var endpoint = MemberEndpoints.For(member, cluster, reachable);
            try
            {
                return (member.Id, Status: await client.StatusAsync(endpoint, cancellationToken).ConfigureAwait(false), Error: (string?)null);
            }
            catch (EtcdException ex)
            {
                return (member.Id, Status: (EtcdMemberStatus?)null, Error: ex.Message);
            }
        });
        foreach (var (id, status, error) in await Task.WhenAll(probes).ConfigureAwait(false))
        {
            if (status is not null)
            {
                statuses[id] = status;
            }
            else
            {
                errors[id] = error!;
            }
        }

        var problems = new List<string>();
        IReadOnlyList<EtcdAlarm> alarms = [];
        long? keyCount = null;
        try
        {
            alarms = await client.ListAlarmsAsync(reachable, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException ex)
        {
            problems.Add($"could not list alarms: {ex.Message}");
        }

        try
        {
            keyCount = await client.CountKeysAsync(reachable, string.Empty, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException ex)
        {
            problems.Add($"could not count keys: {ex.Message}");
        }

        return ClusterHealth.Compose(cluster.Name, clock.GetUtcNow(), members, statuses, errors, alarms, keyCount, problems);
    }
}
