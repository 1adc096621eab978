using System.Globalization;
using Console.Domain.Backups;
using Hangfire;
using Hangfire.Storage;

namespace Console.Infrastructure.Scheduling;

/// <summary>How a scheduled backup's claim went.</summary>
public enum ScheduleClaim
{
    /// <summary>This delivery of the occurrence is the one that runs.</summary>
    Claimed,

    /// <summary>The occurrence (or a later one) was already taken: a duplicate delivery or a retry.</summary>
    AlreadyTaken,

    /// <summary>Another scheduled backup of the cluster holds it, in this process or another one.</summary>
    Busy,

    /// <summary>Claimed from a holder that is no longer alive (a replica killed mid-run): this delivery runs.</summary>
    TakenOver,
}

/// <summary>The replica holding a claim, and when that replica started: a restart under the same name is another holder.</summary>
public sealed record ClaimHolder(string Replica, DateTimeOffset StartedAt);

/// <summary>
/// Our own record of each cluster's schedule and of which occurrence ran, kept in Hangfire's storage (so it outlives
/// restarts and is shared by every console process on the same PostgreSQL store) and changed only under one lock. It
/// is the guard that makes each occurrence run once per cluster whatever Hangfire does: a job delivered twice (a
/// re-queue after the invisibility timeout, two workers, a retry) finds its occurrence taken.
/// </summary>
/// <remarks>
/// Hangfire.Storage.SQLite's distributed lock counts per thread and extends a lock it does not hold, so it is not used:
/// with SQLite one process owns the store and an in-process lock is the lock. With PostgreSQL the store's own lock is
/// taken as well, and always held only across synchronous calls.
/// </remarks>
public sealed class ScheduleStateStore(JobStorage storage, bool sharedStore) : IDisposable
{
    private const string StateKey = "etcd-console:schedule:";
    private const string RunKey = "etcd-console:scheduled-run:";
    private const string LockResource = "etcd-console:schedule";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _local = new(1, 1);

    /// <summary>A scheduled backup holds its cluster for this long unless it renews the lease: a crashed process frees it then.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    public ScheduleState? Read(string cluster)
    {
        using var connection = storage.GetConnection();
        return ReadState(connection, cluster);
    }

    /// <summary>Runs <paramref name="change"/> with the lock held: it reads and writes through the accessor it is given.</summary>
    public async Task<T> ChangeAsync<T>(Func<Access, T> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        await _local.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = storage.GetConnection();
            using var shared = sharedStore ? connection.AcquireDistributedLock(LockResource, LockTimeout) : null;
            return change(new Access(connection));
        }
        finally
        {
            _local.Release();
        }
    }

    /// <summary>Claims <paramref name="occurrence"/> of the cluster for one run, leased until renewed or released.</summary>
    public Task<ScheduleClaim> ClaimAsync(string cluster, DateTimeOffset occurrence, DateTimeOffset now, CancellationToken cancellationToken) =>
        ClaimAsync(cluster, occurrence, now, holder: null, alive: null, cancellationToken);

    /// <summary>
    /// Claims <paramref name="occurrence"/> for <paramref name="holder"/>. With <paramref name="alive"/> (the replicas
    /// whose heartbeat is recent, replicas sharing one database), a lease held by a replica not among them, or by no
    /// known replica, is taken over rather than answered Busy: a replica killed mid-run never releases its lease, and
    /// the next occurrence must not wait for it to expire. Our own holder stays Busy (a run of ours is still going).
    /// </summary>
    public Task<ScheduleClaim> ClaimAsync(
        string cluster,
        DateTimeOffset occurrence,
        DateTimeOffset now,
        ClaimHolder? holder,
        IReadOnlyCollection<ClaimHolder>? alive,
        CancellationToken cancellationToken) =>
        ChangeAsync(
            access =>
            {
                var run = access.Connection.GetAllEntriesFromHash(RunKey + cluster) ?? [];
                if (Time(run, "claimed") is { } claimed && claimed >= occurrence)
                {
                    return ScheduleClaim.AlreadyTaken;
                }

                var result = ScheduleClaim.Claimed;
                if (Time(run, "leased-until") is { } until && until > now)
                {
                    var current = Holder(run);
                    if (alive is null || (current is not null && (current == holder || alive.Contains(current))))
                    {
                        return ScheduleClaim.Busy;
                    }

                    result = ScheduleClaim.TakenOver;
                }

                Write(access.Connection, RunKey + cluster, Claim(occurrence, now + Lease, holder));
                return result;
            },
            cancellationToken);

    /// <summary>Who holds the cluster's current claim, if it was recorded (null before replicas, or never claimed).</summary>
    public ClaimHolder? HolderOf(string cluster)
    {
        using var connection = storage.GetConnection();
        return Holder(connection.GetAllEntriesFromHash(RunKey + cluster) ?? []);
    }

    /// <summary>Extends the lease of a claimed run that is still going.</summary>
    public Task RenewAsync(string cluster, DateTimeOffset occurrence, DateTimeOffset now, CancellationToken cancellationToken) =>
        ChangeAsync(
            access =>
            {
                var run = access.Connection.GetAllEntriesFromHash(RunKey + cluster) ?? [];
                if (Time(run, "claimed") == occurrence)
                {
                    Write(access.Connection, RunKey + cluster, Claim(occurrence, now + Lease, Holder(run)));
                }

                return true;
            },
            cancellationToken);

    /// <summary>Frees the cluster for the next occurrence.</summary>
    public Task ReleaseAsync(string cluster, DateTimeOffset occurrence, CancellationToken cancellationToken) =>
        ChangeAsync(
            access =>
            {
                var run = access.Connection.GetAllEntriesFromHash(RunKey + cluster) ?? [];
                if (Time(run, "claimed") == occurrence)
                {
                    Write(access.Connection, RunKey + cluster, new() { ["claimed"] = Text(occurrence), ["leased-until"] = string.Empty });
                }

                return true;
            },
            cancellationToken);

    public void Dispose() => _local.Dispose();

    private static ScheduleState? ReadState(IStorageConnection connection, string cluster)
    {
        var entries = connection.GetAllEntriesFromHash(StateKey + cluster);
        if (entries is null || !entries.TryGetValue("schedule", out var schedule) || Time(entries, "since") is not { } since)
        {
            return null;
        }

        return new ScheduleState(schedule, since, Time(entries, "last-occurrence"), Time(entries, "last-fired-at"));
    }

    /// <summary>
    /// Replaces the whole hash: Hangfire.Storage.SQLite 0.4.3 updates an existing field by a key it never sets, so an
    /// update would silently change nothing; removing and inserting in one transaction works on every store.
    /// </summary>
    private static void Write(IStorageConnection connection, string key, Dictionary<string, string> values)
    {
        using var transaction = connection.CreateWriteTransaction();
        transaction.RemoveHash(key);
        transaction.SetRangeInHash(key, values);
        transaction.Commit();
    }

    private static Dictionary<string, string> Claim(DateTimeOffset occurrence, DateTimeOffset leasedUntil, ClaimHolder? holder)
    {
        var values = new Dictionary<string, string> { ["claimed"] = Text(occurrence), ["leased-until"] = Text(leasedUntil) };
        if (holder is not null)
        {
            values["holder"] = holder.Replica;
            values["holder-started"] = Text(holder.StartedAt);
        }

        return values;
    }

    private static ClaimHolder? Holder(Dictionary<string, string> run) =>
        run.TryGetValue("holder", out var replica) && Time(run, "holder-started") is { } started ? new ClaimHolder(replica, started) : null;

    private static DateTimeOffset? Time(Dictionary<string, string> entries, string field) =>
        entries.TryGetValue(field, out var text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value) ? value : null;

    private static string Text(DateTimeOffset? value) => value?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) ?? string.Empty;

    /// <summary>Reads and writes schedule states while the store's lock is held.</summary>
    public sealed class Access
    {
        internal Access(IStorageConnection connection) => Connection = connection;

        internal IStorageConnection Connection { get; }

        public ScheduleState? Read(string cluster) => ReadState(Connection, cluster);

        public void Write(string cluster, ScheduleState? state)
        {
            using var transaction = Connection.CreateWriteTransaction();
            transaction.RemoveHash(StateKey + cluster);
            if (state is not null)
            {
                transaction.SetRangeInHash(StateKey + cluster, new Dictionary<string, string>
                {
                    ["schedule"] = state.Schedule,
                    ["since"] = Text(state.Since),
                    ["last-occurrence"] = Text(state.LastOccurrence),
                    ["last-fired-at"] = Text(state.LastFiredAt),
                });
            }

            transaction.Commit();
        }
    }
}
