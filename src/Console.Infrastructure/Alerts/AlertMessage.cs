using System.Text.Json;
using System.Text.Json.Serialization;

namespace Console.Infrastructure.Alerts;

/// <summary>
/// One alert as the webhook channel posts it (the JSON body documented in the README; camelCase): what happened
/// ("fired", "resolved" or "test"), the condition, the cluster (and storage target, for a target's condition), words for
/// people, when the condition started and cleared, which console sent it and where to look. Never holds a secret.
/// </summary>
public sealed record AlertMessage(
    string Kind,
    string Condition,
    string? Cluster,
    string? Subject,
    string Summary,
    string Detail,
    DateTimeOffset StartedAt,
    DateTimeOffset? ResolvedAt,
    string Console,
    string? Url)
{
    public const string Fired = "fired";
    public const string Resolved = "resolved";
    public const string Test = "test";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static AlertMessage FromJson(string json) => JsonSerializer.Deserialize<AlertMessage>(json, Json) ?? throw new InvalidDataException("empty alert message");

    /// <summary>One line for chat and the e-mail subject: "[FIRED] prod: 2 backups failed in a row".</summary>
    public string Headline => $"[{Kind.ToUpperInvariant()}] {Summary}";

    /// <summary>The e-mail body and Slack's text below the headline.</summary>
    public string Text =>
        $"{Detail}\nCondition: {Condition}\nStarted: {StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC"
        + (ResolvedAt is { } at ? $"\nResolved: {at.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC" : string.Empty)
        + $"\nConsole: {Console}" + (Url is null ? string.Empty : $"\n{Url}");
}
