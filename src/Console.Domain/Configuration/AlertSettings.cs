namespace Console.Domain.Configuration;

/// <summary>
/// Console:Alerts (decision record 0035): where alerts go and when conditions count. Webhook and Slack URLs carry their
/// token in the path or query and SMTP passwords are secrets: records print them masked, pages show scheme://host/… only.
/// </summary>
public sealed record AlertSettings
{
    public IReadOnlyList<AlertChannelSettings> Channels { get; init; } = [];

    /// <summary>Failed backups in a row that make the "consecutive failures" condition.</summary>
    public int ConsecutiveFailures { get; init; } = 2;

    /// <summary>For clusters with Continuous on: an RPO above this fires (as DurationText, e.g. "5m"); unset: the status table's own limit.</summary>
    public string? RpoThreshold { get; init; }

    /// <summary>How often conditions are evaluated and due deliveries sent (as DurationText, at least "1s").</summary>
    public string EvaluateEvery { get; init; } = "15s";

    public AlertRetrySettings Retry { get; init; } = new();

    /// <summary>The console's address as people reach it (e.g. "https://etcd-backups.example.com"): alerts link to it; unset: no link.</summary>
    public string? ConsoleUrl { get; init; }

    // The channels themselves, each printing its URL and password masked (a list would print as its type name).
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Channels = [").AppendJoin(", ", Channels).Append("], ConsecutiveFailures = ").Append(ConsecutiveFailures)
            .Append(", RpoThreshold = ").Append(RpoThreshold).Append(", EvaluateEvery = ").Append(EvaluateEvery)
            .Append(", Retry = ").Append(Retry).Append(", ConsoleUrl = ").Append(ConsoleUrl);
        return true;
    }
}

/// <summary>Delivery retries: attempt n waits FirstDelay x 2^(n-1), at most MaxDelay; after Attempts the delivery has failed.</summary>
public sealed record AlertRetrySettings
{
    public int Attempts { get; init; } = 6;
    public string FirstDelay { get; init; } = "10s";
    public string MaxDelay { get; init; } = "10m";
}

public sealed record AlertChannelSettings
{
    public string? Name { get; init; }

    /// <summary>"webhook", "slack" or "email".</summary>
    public string? Kind { get; init; }

    /// <summary>The webhook or Slack incoming-webhook URL (a secret: its path and query carry the token).</summary>
    public string? Url { get; init; }

    public SmtpSettings Smtp { get; init; } = new();

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Name = ").Append(Name).Append(", Kind = ").Append(Kind)
            .Append(", Url = ").Append(SecretUrl.Mask(Url)).Append(", Smtp = ").Append(Smtp);
        return true;
    }
}

public sealed record SmtpSettings
{
    public string? Host { get; init; }
    public int Port { get; init; } = 587;
    public string? User { get; init; }
    public string? Password { get; init; }
    public string? From { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];

    /// <summary>Upgrade the connection with STARTTLS (default); off only for a relay on a trusted network.</summary>
    public bool StartTls { get; init; } = true;

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Host = ").Append(Host).Append(", Port = ").Append(Port).Append(", User = ").Append(User)
            .Append(", Password = ").Append(Password is null ? "null" : "***").Append(", From = ").Append(From)
            .Append(", To = [").Append(string.Join(", ", To)).Append("], StartTls = ").Append(StartTls);
        return true;
    }
}

/// <summary>A URL whose path and query are a secret (webhook tokens): shown as scheme://host[:port]/… only.</summary>
public static class SecretUrl
{
    public static string Mask(string? url) =>
        url is null ? "null"
        : Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/…"
        : "***";
}
