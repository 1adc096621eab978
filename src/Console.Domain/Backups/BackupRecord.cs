namespace Console.Domain.Backups;

public enum BackupTrigger
{
    Manual,
    Scheduled,
    Api,
    PreRestore,
    /// <summary>Continuous backup needed a base: none to start from, or the watcher fell behind a compaction.</summary>
    Continuous,
}

public enum BackupStatus
{
    Running,
    Succeeded,
    /// <summary>At least one target has the snapshot and at least one does not (retried from the local copy).</summary>
    PartiallySucceeded,
    Failed,
    /// <summary>The console stopped (crash, kill, restart) while the backup was running.</summary>
    Interrupted,
}

/// <summary>One backup attempt, as recorded in the console's database.</summary>
public sealed record BackupRecord
{
    public long Id { get; init; }
    public required string Cluster { get; init; }
    public BackupTrigger Trigger { get; init; }
    public string RequestedBy { get; init; } = "system";
    public BackupStatus Status { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? Member { get; init; }
    /// <summary>Why this member was chosen and why others were skipped.</summary>
    public string? MemberNote { get; init; }
    public string? Error { get; init; }
    public string? FileName { get; init; }
    /// <summary>Where the copies are (a path for local, a URL for S3), one per line.</summary>
    public string? Location { get; init; }
    public string Targets { get; init; } = "local";
    public long? SizeBytes { get; init; }
    public string? Sha256 { get; init; }
    public long? Revision { get; init; }
    public long? RaftIndex { get; init; }
    public string? EtcdVersion { get; init; }
    /// <summary>What retention did after this backup, or why it could not (never fails the backup).</summary>
    public string? RetentionNote { get; init; }
    /// <summary>The console replica that ran it (null for records from before replicas were named, or rebuilt from manifests).</summary>
    public string? Replica { get; init; }
    /// <summary>The schedule occurrence a scheduled run belongs to; null for runs someone asked for.</summary>
    public DateTimeOffset? Occurrence { get; init; }

    public TimeSpan? Duration => FinishedAt is { } end ? end - StartedAt : null;

    /// <summary>Bytes per second over the whole run.</summary>
    public double? Throughput => SizeBytes is { } size && Duration is { TotalSeconds: > 0 } d ? size / d.TotalSeconds : null;
}
