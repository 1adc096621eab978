using Console.Domain.Restore;
using Console.Infrastructure.Etcd;

namespace Console.Infrastructure.Restore;

/// <summary>The evidence that a restored cluster is whole, check by check.</summary>
public sealed record RestoreReport(IReadOnlyList<(string Check, bool Ok, string Detail)> Checks)
{
    public bool Ok => Checks.All(c => c.Ok);
}

public static class RestoreProof
{
    /// <summary>
    /// Member list matches the plan; exactly one leader that every member agrees on; HashKV equal on every member;
    /// revision at least the snapshot's; live key count equal to the snapshot's.
    /// </summary>
    public static async Task<RestoreReport> CheckAsync(EtcdClusterClient client, RestorePlan plan, long snapshotRevision, long snapshotKeyCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(plan);
        var checks = new List<(string, bool, string)>();
        var (reachable, members) = await client.OnAnyEndpointAsync(client.ListMembersAsync, cancellationToken).ConfigureAwait(false);
        var expected = plan.Members.Select(m => $"{m.Name}={m.PeerUrl.ToString().TrimEnd('/')}").Order(StringComparer.Ordinal).ToList();
        var actual = members.Select(m => $"{m.Name}={string.Join(',', m.PeerUrls)}").Order(StringComparer.Ordinal).ToList();
        checks.Add(("member list matches the plan", expected.SequenceEqual(actual), string.Join(", ", actual)));

        var endpoints = members.Where(m => m.ClientUrls.Count > 0).Select(m => (m.Name, Url: new Uri(m.ClientUrls[0]))).ToList();
        var statuses = await Task.WhenAll(endpoints.Select(async e => (e.Name, Status: await client.StatusAsync(e.Url, cancellationToken).ConfigureAwait(false)))).ConfigureAwait(false);
        var leaders = statuses.Select(s => s.Status.Leader).Distinct().ToList();
        checks.Add(("one leader", leaders.Count == 1 && leaders[0] != 0 && statuses.Length == plan.Members.Count,
            leaders.Count == 1 && leaders[0] != 0 ? $"{members.FirstOrDefault(m => m.Id == leaders[0])?.Name} leads; {statuses.Length} of {plan.Members.Count} members answer" : "members disagree or see no leader"));

        var hashes = await Task.WhenAll(endpoints.Select(async e => (e.Name, Hash: await client.HashKvAsync(e.Url, cancellationToken).ConfigureAwait(false)))).ConfigureAwait(false);
        checks.Add(("HashKV equal on every member", hashes.Select(h => h.Hash.Hash).Distinct().Count() == 1,
            string.Join(", ", hashes.Select(h => $"{h.Name} {h.Hash.Hash:x8} @ {h.Hash.Revision}"))));

        var revision = statuses.Max(s => s.Status.Revision);
        checks.Add(("revision at least the snapshot's", revision >= snapshotRevision, $"{revision:N0} (snapshot {snapshotRevision:N0})"));

        var keys = await client.CountKeysAsync(reachable, string.Empty, cancellationToken).ConfigureAwait(false);
        checks.Add(("key count equals the snapshot's", keys == snapshotKeyCount, $"{keys:N0} (snapshot {snapshotKeyCount:N0})"));
        return new RestoreReport(checks);
    }
}
