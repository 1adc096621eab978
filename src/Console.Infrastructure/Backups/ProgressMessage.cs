using System.Text.Json;
using System.Text.Json.Serialization;
using Console.Domain.Backups;

namespace Console.Infrastructure.Backups;

/// <summary>
/// One progress update as it travels between console processes: the payload of a PostgreSQL NOTIFY (decision record
/// 0023). Compact JSON, always well under PostgreSQL's 8000-byte payload limit: the free-text fields are capped, and a
/// final update carries only what identifies the run, since the receiver reads the final record from the database.
/// </summary>
internal sealed record ProgressMessage(
    [property: JsonPropertyName("id")] long RecordId,
    [property: JsonPropertyName("cluster")] string Cluster,
    [property: JsonPropertyName("trigger")] BackupTrigger Trigger,
    [property: JsonPropertyName("by")] string RequestedBy,
    [property: JsonPropertyName("started")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("phase")] BackupPhase Phase,
    [property: JsonPropertyName("member")] string? Member,
    [property: JsonPropertyName("bytes")] long BytesReceived,
    [property: JsonPropertyName("total")] long? TotalBytes,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("origin")] string Origin)
{
    /// <summary>
    /// Each free-text field's cap, in characters: three of them, JSON-escaped at worst six bytes a character, stay far
    /// below the limit with the rest of the message.
    /// </summary>
    internal const int MaxText = 300;

    public static string Encode(BackupProgress progress, string origin)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var message = new ProgressMessage(
            progress.RecordId,
            Cap(progress.Cluster)!,
            progress.Trigger,
            Cap(progress.RequestedBy)!,
            progress.StartedAt,
            progress.Phase,
            Cap(progress.Member),
            progress.BytesReceived,
            progress.TotalBytes,
            progress.At,
            origin);
        return JsonSerializer.Serialize(message, ProgressMessageJson.Default.ProgressMessage);
    }

    /// <summary>The message in <paramref name="payload"/>, or null when it is not one (another program on the channel).</summary>
    public static ProgressMessage? Decode(string payload)
    {
        try
        {
            return JsonSerializer.Deserialize(payload, ProgressMessageJson.Default.ProgressMessage) is { Cluster: not null, RequestedBy: not null, Origin: not null } message
                ? message
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The update as a progress of a run on another console process.</summary>
    public BackupProgress ToProgress() =>
        new(RecordId, Cluster, Trigger, RequestedBy, StartedAt, Phase, Member, BytesReceived, TotalBytes, At) { Relayed = true };

    private static string? Cap(string? text) => text is { Length: > MaxText } ? text[..MaxText] : text;
}

[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
[JsonSerializable(typeof(ProgressMessage))]
internal sealed partial class ProgressMessageJson : JsonSerializerContext;
