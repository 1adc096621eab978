using Console.Domain.Clusters;

namespace Console.Domain.Restore;

/// <summary>
/// Compares the members a restore is configured for with the member list etcd itself reports. A restore restores each
/// configured name with its configured peer URL and later checks "this member is down" by those values, so a member
/// etcd knows under another name (its --name) or another peer URL would be reported down while it still serves.
/// Matching is by peer URL (what identifies a member on the wire) and then by name; every difference is listed.
/// </summary>
public static class MemberMatch
{
    public static IReadOnlyList<string> Differences(IReadOnlyList<MemberSpec> configured, IReadOnlyList<EtcdMember> actual)
    {
        ArgumentNullException.ThrowIfNull(configured);
        ArgumentNullException.ThrowIfNull(actual);
        var differences = new List<string>();
        var matched = new HashSet<ulong>();
        foreach (var member in configured)
        {
            if (member.PeerUrl is null)
            {
                differences.Add($"'{member.Name}' has no PeerUrl in the configuration");
                continue;
            }

            var byPeer = actual.FirstOrDefault(a => a.PeerUrls.Any(p => SameUrl(p, member.PeerUrl)));
            if (byPeer is null)
            {
                var byName = actual.FirstOrDefault(a => a.Name == member.Name);
                differences.Add(byName is null
                    ? $"'{member.Name}' (peer URL {Text(member.PeerUrl)}) is not in etcd's member list"
                    : $"'{member.Name}' is configured with peer URL {Text(member.PeerUrl)} but etcd lists it with {string.Join(", ", byName.PeerUrls)}");
                if (byName is not null)
                {
                    matched.Add(byName.Id);
                }

                continue;
            }

            matched.Add(byPeer.Id);
            if (byPeer.Name != member.Name)
            {
                differences.Add(byPeer.HasStarted
                    ? $"'{member.Name}' (peer URL {Text(member.PeerUrl)}) is named '{byPeer.Name}' in etcd (its --name); the configured name must be etcd's"
                    : $"'{member.Name}' (peer URL {Text(member.PeerUrl)}) was added to etcd but has never started");
            }
        }

        foreach (var member in actual.Where(a => !matched.Contains(a.Id)))
        {
            differences.Add($"etcd lists member '{(member.Name.Length == 0 ? member.IdHex : member.Name)}' (peer URLs {string.Join(", ", member.PeerUrls)}), which the configuration does not");
        }

        return differences;
    }

    private static bool SameUrl(string listed, Uri configured) =>
        Uri.TryCreate(listed, UriKind.Absolute, out var url) && Uri.Compare(url, configured, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    private static string Text(Uri url) => url.GetLeftPart(UriPartial.Authority);
}
