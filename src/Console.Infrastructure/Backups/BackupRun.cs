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

    internal BackupRun(string cluster, BackupTrigger trigger, string requestedBy, DateTimeOffset startedAt)
    {
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

    public sealed record UnknownCluster(string Cluster) : BackupStart;

    /// <summary>Backups of the cluster are suspended (a restore is in progress).</summary>
    public sealed record Suspended(string Cluster, string Reason) : BackupStart;
}
