using Console.Domain.Clusters;

namespace Console.Infrastructure.Clusters;

internal static class MemberEndpoints
{
    /// <summary>
    /// The URL to reach one member on: its advertised client URL that matches a configured endpoint, else its first
    /// advertised client URL, else (a member known only through a proxy or NAT) the endpoint that reached the cluster.
    /// </summary>
    public static Uri For(EtcdMember member, ClusterSpec cluster, Uri reachable)
    {
        foreach (var url in member.ClientUrls)
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var advertised) &&
                cluster.Endpoints.Any(e => e.Authority == advertised.Authority && e.Scheme == advertised.Scheme))
            {
                return advertised;
            }
        }

        return member.ClientUrls.Count > 0 && Uri.TryCreate(member.ClientUrls[0], UriKind.Absolute, out var first) ? first : reachable;
    }
}
