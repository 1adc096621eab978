using System.Text.Json;
using System.Text.Json.Serialization;

namespace Console.Infrastructure.Storage;

/// <summary>
/// Written beside every snapshot so the store alone can rebuild the history: what was taken, from where, and its hash.
/// </summary>
public sealed record SnapshotManifest
{
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;
    public required string Cluster { get; init; }
    public required string FileName { get; init; }
    public string? Member { get; init; }
    public string? MemberId { get; init; }
    public long? Revision { get; init; }
    public long? RaftIndex { get; init; }
    public long? DbSize { get; init; }
    public required long SizeBytes { get; init; }
    public required string Sha256 { get; init; }
    public string? EtcdVersion { get; init; }
    public required string Trigger { get; init; }
    public string? RequestedBy { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset FinishedAt { get; init; }
    public string? ConsoleVersion { get; init; }

    /// <summary>How the stored copy is encoded: "none" (absent in manifests written before sealing), "zstd", "age", "zstd+age".</summary>
    public string? Codec { get; init; }

    /// <summary>The age recipients a sealed copy was encrypted to (public keys, with a short fingerprint each).</summary>
    public IReadOnlyList<ManifestRecipient>? Recipients { get; init; }

    /// <summary>sha256 and size of the stored bytes of a sealed copy, so it can be re-verified without opening it.
    /// <see cref="Sha256"/> and <see cref="SizeBytes"/> stay those of the raw snapshot inside.</summary>
    public string? StoredSha256 { get; init; }

    public long? StoredSizeBytes { get; init; }

    /// <summary>The backup record's id (the value of the canary key written just before the snapshot).</summary>
    public long? RecordId { get; init; }

    /// <summary>The canary key written just before the snapshot (under <c>/etcd-backup-console/canary/</c>), or null.</summary>
    public string? CanaryKey { get; init; }

    /// <summary>Why no canary was written (etcd refused it, or it could not be written); a drill reports it as skipped.</summary>
    public string? CanarySkipped { get; init; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static SnapshotManifest? Parse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize<SnapshotManifest>(utf8, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>An age recipient a copy was sealed to: its public key and a short fingerprint to match it by.</summary>
public sealed record ManifestRecipient(string Recipient, string Fingerprint);
