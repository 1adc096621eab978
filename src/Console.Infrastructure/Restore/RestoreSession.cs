using System.Text.Json;

namespace Console.Infrastructure.Restore;

public enum RestoreStep
{
    Choose,
    Verify,
    Plan,
    SafetySnapshot,
    StopMembers,
    RestoreData,
    StartMembers,
    Prove,
    Done,
    Failed,
    RolledBack,
}

/// <summary>The state of one restore, persisted after every action so a refresh or a restart resumes at the same step.</summary>
public sealed record RestoreSession
{
    public long Id { get; init; }
    public required string Cluster { get; init; }
    public RestoreStep Step { get; init; }
    public required string StartedBy { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public string? SnapshotTarget { get; init; }
    public string? SnapshotFile { get; init; }
    public string? StagedPath { get; init; }
    public string? Sha256 { get; init; }
    public long? SizeBytes { get; init; }
    public long? SnapshotRevision { get; init; }
    public long? SnapshotKeyCount { get; init; }
    public string? Token { get; init; }
    public DateTimeOffset? PlannedAt { get; init; }
    public string? ToolName { get; init; }
    public string? ToolVersion { get; init; }
    public long? SafetyBackupId { get; init; }
    public string? SafetyNote { get; init; }
    public Dictionary<string, string> MemberStates { get; init; } = [];
    /// <summary>Each member's own client and peer URLs from etcd's member list before the stop: what must refuse connections for it to be down.</summary>
    public Dictionary<string, List<string>> MemberUrls { get; init; } = [];
    public string? Failure { get; init; }
    public RestoreStep? FailedAt { get; init; }
    public List<ProofLine> Report { get; init; } = [];

    public bool Active => Step is not (RestoreStep.Done or RestoreStep.RolledBack);

    public string ToJson() => JsonSerializer.Serialize(this);

    public static RestoreSession FromJson(string json) => JsonSerializer.Deserialize<RestoreSession>(json) ?? throw new InvalidDataException("empty restore session");
}

public sealed record ProofLine(string Check, bool Ok, string Detail);

public sealed record RestoreAuditEntry(DateTimeOffset At, string Who, string Step, string Action, string Outcome, string Detail);
