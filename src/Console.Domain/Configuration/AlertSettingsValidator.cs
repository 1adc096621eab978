namespace Console.Domain.Configuration;

/// <summary>Console:Alerts' problems, every one of them; never quotes a URL or a password (they are secrets).</summary>
public static class AlertSettingsValidator
{
    public static readonly IReadOnlySet<string> KnownKinds = new HashSet<string>(StringComparer.Ordinal) { "webhook", "slack", "email" };

    public static void Validate(AlertSettings alerts, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        ArgumentNullException.ThrowIfNull(errors);
        const string path = "Console:Alerts";
        if (alerts.ConsecutiveFailures < 1)
        {
            errors.Add($"{path}:ConsecutiveFailures must be at least 1 (was {alerts.ConsecutiveFailures}).");
        }

        if (alerts.RpoThreshold is { } rpo && !(DurationText.TryParse(rpo, out var threshold) && threshold > TimeSpan.Zero))
        {
            errors.Add($"{path}:RpoThreshold: '{rpo}' is not a positive duration (e.g. \"5m\").");
        }

        if (!(DurationText.TryParse(alerts.EvaluateEvery, out var every) && every >= TimeSpan.FromSeconds(1)))
        {
            errors.Add($"{path}:EvaluateEvery: '{alerts.EvaluateEvery}' is not a duration of at least 1s (e.g. \"15s\").");
        }

        if (alerts.Retry.Attempts is < 1 or > 100)
        {
            errors.Add($"{path}:Retry:Attempts must be between 1 and 100 (was {alerts.Retry.Attempts}).");
        }

        foreach (var (key, text) in new[] { ("FirstDelay", alerts.Retry.FirstDelay), ("MaxDelay", alerts.Retry.MaxDelay) })
        {
            if (!(DurationText.TryParse(text, out var delay) && delay > TimeSpan.Zero))
            {
                errors.Add($"{path}:Retry:{key}: '{text}' is not a positive duration (e.g. \"10s\").");
            }
        }

        if (alerts.ConsoleUrl is { } link && !(Uri.TryCreate(link, UriKind.Absolute, out var console) && console.Scheme is "http" or "https"))
        {
            errors.Add($"{path}:ConsoleUrl: '{link}' is not an absolute http(s) URL.");
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < alerts.Channels.Count; i++)
        {
            var channel = alerts.Channels[i];
            var at = $"{path}:Channels:{i}";
            if (string.IsNullOrWhiteSpace(channel.Name))
            {
                errors.Add($"{at}:Name must not be empty.");
            }
            else
            {
                at = $"{at} ('{channel.Name}')";
                if (!names.Add(channel.Name.Trim()))
                {
                    errors.Add($"{at}: the name '{channel.Name}' is used by more than one channel.");
                }
            }

            if (channel.Kind is null || !KnownKinds.Contains(channel.Kind))
            {
                errors.Add($"{at}:Kind: '{channel.Kind}' is not one of \"webhook\", \"slack\", \"email\".");
                continue;
            }

            if (channel.Kind == "email")
            {
                ValidateSmtp(channel.Smtp, at, errors);
            }
            else if (!(Uri.TryCreate(channel.Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
            {
                // The URL is a secret: said without it.
                errors.Add($"{at}:Url must be an absolute http(s) URL (the {channel.Kind}'s address; not shown: it carries a token).");
            }
        }
    }

    private static void ValidateSmtp(SmtpSettings smtp, string at, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(smtp.Host))
        {
            errors.Add($"{at}:Smtp:Host must name the SMTP server.");
        }

        if (smtp.Port is < 1 or > 65535)
        {
            errors.Add($"{at}:Smtp:Port must be between 1 and 65535 (was {smtp.Port}).");
        }

        if (!IsAddress(smtp.From))
        {
            errors.Add($"{at}:Smtp:From: '{smtp.From}' is not an e-mail address.");
        }

        if (smtp.To.Count == 0)
        {
            errors.Add($"{at}:Smtp:To must list at least one recipient.");
        }

        foreach (var to in smtp.To.Where(t => !IsAddress(t)))
        {
            errors.Add($"{at}:Smtp:To: '{to}' is not an e-mail address.");
        }

        if (smtp.Password is not null && string.IsNullOrWhiteSpace(smtp.User))
        {
            errors.Add($"{at}:Smtp: a Password needs a User.");
        }
    }

    // Deliberately loose: the SMTP server is the judge; this catches a missing or misplaced value.
    private static bool IsAddress(string? text) =>
        text is { Length: > 2 } t && t.IndexOf('@', StringComparison.Ordinal) is var at && at > 0 && at < t.Length - 1 && !t.Any(char.IsWhiteSpace);
}
