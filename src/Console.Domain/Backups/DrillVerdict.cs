namespace Console.Domain.Backups;

/// <summary>How a restore drill of one stored copy ended. A copy with no verdict at all is "not drilled".</summary>
public enum DrillOutcome
{
    /// <summary>Under way (or the console stopped during it: start-up turns a left-over Running into Failed).</summary>
    Running,
    Passed,
    Failed,
}

/// <summary>
/// One restore drill of one copy of a snapshot as stored in one target: the copy was fetched and opened as a restore
/// would, restored into a throwaway etcd, started, and checked. <see cref="Rto"/> is the time from the start of the
/// fetch to a member serving reads.
/// </summary>
public sealed record DrillVerdict
{
    public long Id { get; init; }
    /// <summary>The backup record the copy belongs to (null for a copy the database has no record of).</summary>
    public long? BackupId { get; init; }
    public required string Cluster { get; init; }
    public required string FileName { get; init; }
    public required string Target { get; init; }
    public DrillOutcome Outcome { get; init; }
    /// <summary>Why it failed, or what a pass checked, in words.</summary>
    public string? Reason { get; init; }
    /// <summary>The revision the restored member reported.</summary>
    public long? Revision { get; init; }
    /// <summary>The live keys the restored member holds.</summary>
    public long? KeyCount { get; init; }
    /// <summary>What the canary check found, or why it was skipped.</summary>
    public string? Canary { get; init; }
    /// <summary>Continuous mode: what the delta check found (null when the cluster has none).</summary>
    public string? Deltas { get; init; }
    public TimeSpan? Rto { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? Replica { get; init; }
    public string RequestedBy { get; init; } = "system";
}
