using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Console.Domain.Backups;
using Console.Domain.Restore;

namespace Console.Infrastructure.Restore;

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
    /// <summary>The host whose disk holds <see cref="StagedPath"/>: replicas share the session, not their disks.</summary>
    public string? StagedOn { get; init; }
    /// <summary>Set when the operator chose a point in time instead of a snapshot: Verify builds the restore source from the deltas.</summary>
    public PointInTimeTarget? PointInTime { get; init; }
    /// <summary>How the point-in-time source was built (revision, keys, base snapshot, segments replayed), once Verify has built it.</summary>
    public Continuous.PointInTimeResult? PointInTimeBuilt { get; init; }
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
    public IReadOnlyDictionary<string, MemberProgress> Members { get; init; } = new Dictionary<string, MemberProgress>();
    /// <summary>Each member's own client and peer URLs from etcd's member list before the stop: what must refuse connections for it to be down.</summary>
    public Dictionary<string, List<string>> MemberUrls { get; init; } = [];
    public string? Failure { get; init; }
    public RestoreStep? FailedAt { get; init; }
    public List<ProofLine> Report { get; init; } = [];

    /// <summary>The procedure's rules applied to this session's step and members.</summary>
    [JsonIgnore]
    public RestoreProcedure Procedure => new(Step, Members);

    public bool Active => Procedure.Active;

    public RestoreSession WithMember(string member, MemberProgress progress) =>
        this with { Members = new Dictionary<string, MemberProgress>(Members) { [member] = progress } };

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>
    /// Sessions saved before member states were an enum hold "MemberStates" as free text: they are read by the words
    /// each began with (<see cref="MemberProgress.FromLegacyText"/>) and written back in the new shape on the next save.
    /// </summary>
    public static RestoreSession FromJson(string json)
    {
        var node = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException("empty restore session");
        if (node["MemberStates"] is JsonObject legacy && node[nameof(Members)] is null)
        {
            node[nameof(Members)] = JsonSerializer.SerializeToNode(legacy.ToDictionary(kv => kv.Key, kv => MemberProgress.FromLegacyText(kv.Value?.GetValue<string>() ?? string.Empty)));
        }

        node.Remove("MemberStates");
        return node.Deserialize<RestoreSession>() ?? throw new InvalidDataException("empty restore session");
    }
}

public sealed record ProofLine(string Check, bool Ok, string Detail);

public sealed record RestoreAuditEntry(DateTimeOffset At, string Who, string Step, string Action, string Outcome, string Detail);
