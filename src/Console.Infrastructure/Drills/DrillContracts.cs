using Console.Domain.Access;
using Console.Domain.Backups;

namespace Console.Infrastructure.Drills;

/// <summary>What became of a request for a drill: queued (and where in the queue), or refused with the reason.</summary>
public sealed record DrillRequest(bool Accepted, string Message);

/// <summary>The drill running now on this console: which copy, its phase in words, and since when.</summary>
public sealed record DrillProgress(string Cluster, string FileName, string Target, string Phase, DateTimeOffset StartedAt);

/// <summary>
/// Restore drills (issue 17): each stored copy of a snapshot is fetched and opened as a restore would, restored into a
/// throwaway etcd on loopback, started and checked; the verdicts are in <see cref="Persistence.DrillLedger"/>.
/// One drill at a time per console.
/// </summary>
public interface IRestoreDrills
{
    /// <summary>Queues a drill of one stored copy on demand (Operator, audited); returns at once.</summary>
    Task<DrillRequest> RequestAsync(SnapshotName name, string target, Actor by, CancellationToken cancellationToken);

    /// <summary>The drill running on this console now, or null.</summary>
    DrillProgress? Current { get; }

    /// <summary>Raised when a drill starts, changes phase or ends (for live pages); never raised under a lock.</summary>
    event Action? Changed;
}
