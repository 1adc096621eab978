using Etcdserverpb;

namespace Console.Infrastructure.Etcd;

public sealed partial class EtcdClusterClient
{
    /// <summary>
    /// The TTL in seconds a lease was granted with, or -1 when etcd no longer knows it (expired or revoked). Continuous
    /// backup stores it with every segment naming the lease, so a replay can grant leases of the same length.
    /// </summary>
    public async Task<long> LeaseGrantedTtlAsync(Uri endpoint, long lease, CancellationToken cancellationToken)
    {
        var r = await CallAsync(endpoint, (e, o) => e.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease }, o), cancellationToken).ConfigureAwait(false);
        return r.TTL == -1 ? -1 : r.GrantedTTL;
    }
}
