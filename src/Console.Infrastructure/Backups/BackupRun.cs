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

/// <summary>A backup in flight, as every open page sees it. Updated by the runner; read by anyone.</summary>
public sealed class BackupRun
{
    private readonly TaskCompletionSource<BackupRecord> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<bool> _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal BackupRun(string cluster, BackupTrigger trigger, string requestedBy, DateTimeOffset startedAt)
    {
        Cluster = cluster;
        Trigger = trigger;
        RequestedBy = requestedBy;
        StartedAt = startedAt;
    }

    public long RecordId { get; internal set; }
    public string Cluster { get; }
    public BackupTrigger Trigger { get; }
    public string RequestedBy { get; }
    public DateTimeOffset StartedAt { get; }
    public BackupPhase Phase { get; internal set; }
    public string? Member { get; internal set; }
    public long BytesReceived { get; internal set; }
    public long? TotalBytes { get; internal set; }

    /// <summary>Completes with the final record (Succeeded, Failed or Interrupted); never faults.</summary>
    public Task<BackupRecord> Completion => _completion.Task;

    public double? Percent => TotalBytes is > 0 and var total ? Math.Min(100, 100.0 * BytesReceived / total) : null;

    public double BytesPerSecond(DateTimeOffset now) => (now - StartedAt).TotalSeconds is > 0 and var s ? BytesReceived / s : 0;

    /// <summary>True once the run's record exists (RecordId is set); false if recording it failed.</summary>
    internal Task<bool> Registered => _registered.Task;

    internal void MarkRegistered(bool ok) => _registered.TrySetResult(ok);

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
