using Console.Domain.Configuration;

namespace Console.Infrastructure.Alerts;

public enum AlertChannelKind
{
    Webhook,
    Slack,
    Email,
}

/// <summary>
/// One configured channel, parsed once from validated settings. <see cref="Url"/> and the SMTP password are secrets: the
/// record prints neither, <see cref="Where"/> is what pages, logs and the audit log show, and <see cref="Scrub"/> takes
/// them out of any text that could quote them (an exception's message).
/// </summary>
public sealed record AlertChannel(string Name, AlertChannelKind Kind, Uri? Url, SmtpSettings? Smtp)
{
    /// <summary>Where deliveries go, without secrets: "https://hooks.example.com/…" or "smtp mail.example.com:587 → a@b, c@d".</summary>
    public string Where => Kind == AlertChannelKind.Email && Smtp is { } smtp
        ? $"smtp {smtp.Host}:{smtp.Port} → {string.Join(", ", smtp.To)}"
        : SecretUrl.Mask(Url?.OriginalString);

    public string KindName => Kind.ToString().ToLowerInvariant();

    public static IReadOnlyList<AlertChannel> From(AlertSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return [.. settings.Channels.Select(c => new AlertChannel(
            c.Name!.Trim(),
            Enum.Parse<AlertChannelKind>(c.Kind!, ignoreCase: true),
            c.Kind == "email" ? null : new Uri(c.Url!, UriKind.Absolute),
            c.Kind == "email" ? c.Smtp : null))];
    }

    /// <summary><paramref name="text"/> with the URL, its path and query, and the password replaced by "***".</summary>
    public string Scrub(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var secret in Secrets().Where(s => s.Length >= 4).OrderByDescending(s => s.Length))
        {
            text = text.Replace(secret, "***", StringComparison.Ordinal);
        }

        return text;
    }

    private IEnumerable<string> Secrets()
    {
        if (Url is { } url)
        {
            yield return url.OriginalString;
            yield return url.AbsoluteUri;
            yield return url.PathAndQuery;
            yield return Uri.UnescapeDataString(url.PathAndQuery);
        }

        if (Smtp?.Password is { } password)
        {
            yield return password;
        }
    }

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Name = ").Append(Name).Append(", Kind = ").Append(Kind).Append(", Where = ").Append(Where);
        return true;
    }
}
