using Console.Domain.Backups;

namespace Console.Infrastructure.Backups;

public enum BackupPhase
{
    Starting,
    ChoosingMember,
    Streaming,
    Finalizing,
    Pruning,
    Finished,
}

/// <summary>
/// The handle of a backup in flight: who asked, its record, and its outcome once it ends. How far it has come is
/// <see cref="Progress"/>, an immutable update that the runner replaces (and publishes on <see cref="BackupProgressFeed"/>).
/// </summary>
public sealed class BackupRun
{
    private readonly TaskCompletionSource<BackupRecord> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<bool> _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile BackupProgress _progress;

    internal BackupRun(string cluster, BackupTrigger trigger, string requestedBy, DateTimeOffset startedAt, string replica, DateTimeOffset? occurrence = null)
    {
        Replica = replica;
        Occurrence = occurrence;
        Cluster = cluster;
        Trigger = trigger;
        RequestedBy = requestedBy;
        StartedAt = startedAt;
        _progress = new BackupProgress(0, cluster, trigger, requestedBy, startedAt, BackupPhase.Starting, null, 0, null, startedAt);
    }

    public long RecordId { get; private set; }
    public string Cluster { get; }
    public BackupTrigger Trigger { get; }
    public string RequestedBy { get; }
    public DateTimeOffset StartedAt { get; }

    /// <summary>The replica running it (this process).</summary>
    public string Replica { get; }

    /// <summary>The schedule occurrence it belongs to; null when someone asked for it.</summary>
    public DateTimeOffset? Occurrence { get; }

    /// <summary>The latest update of this run.</summary>
    public BackupProgress Progress => _progress;

    /// <summary>Completes with the final record (Succeeded, Failed or Interrupted); never faults.</summary>
    public Task<BackupRecord> Completion => _completion.Task;

    /// <summary>True once the run's record exists (RecordId is set); false if recording it failed.</summary>
    internal Task<bool> Registered => _registered.Task;

    internal void MarkRegistered(long recordId)
    {
        RecordId = recordId;
        _progress = _progress with { RecordId = recordId };
        _registered.TrySetResult(true);
    }

    internal void MarkNotRegistered() => _registered.TrySetResult(false);

    /// <summary>Replaces the progress with a changed copy and returns it (only the runner's thread for this run calls it).</summary>
    internal BackupProgress Advance(Func<BackupProgress, BackupProgress> change) => _progress = change(_progress);

    internal void Complete(BackupRecord record) => _completion.TrySetResult(record);
}

/// <summary>What asking for a backup led to.</summary>
public abstract record BackupStart
{
    private BackupStart()
    {
    }

    public sealed record Started(BackupRun Run) : BackupStart;

    /// <summary>One run per cluster: the one already in flight.</summary>
    public sealed record AlreadyRunning(BackupRun Run) : BackupStart;

    /// <summary>
    /// One run per cluster across replicas: another replica holds the cluster's lock. Its Running record (null if it
    /// was not yet visible) and the replica that runs it.
    /// </summary>
    public sealed record RunningElsewhere(long? RecordId, string? Replica) : BackupStart;

    public sealed record UnknownCluster(string Cluster) : BackupStart;

    /// <summary>Backups of the cluster are suspended (a restore is in progress).</summary>
    public sealed record Suspended(string Cluster, string Reason) : BackupStart;
}
