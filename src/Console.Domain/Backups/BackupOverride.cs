namespace Console.Domain.Backups;

/// <summary>
/// Changes made in the console's Settings page (or by pause/resume) on top of the configuration file. Null fields
/// keep the file's value. Persisted, so they survive restarts.
/// </summary>
public sealed record BackupOverride(
    bool? Paused = null,
    string? Interval = null,
    string? Cron = null,
    int? RetentionCount = null,
    string? RetentionMaxAge = null,
    bool ClearRetentionMaxAge = false)
{
    public Clusters.BackupPolicy ApplyTo(Clusters.BackupPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var schedule = (Interval, Cron) switch
        {
            ({ } i, _) when !string.IsNullOrWhiteSpace(i) => (Configuration.DurationText.TryParse(i, out var span) ? span : policy.Interval, (string?)null),
            (_, { } c) when !string.IsNullOrWhiteSpace(c) => ((TimeSpan?)null, c.Trim()),
            _ => (policy.Interval, policy.Cron),
        };
        var maxAge = ClearRetentionMaxAge ? null
            : RetentionMaxAge is { } text && Configuration.DurationText.TryParse(text, out var age) ? age
            : policy.Retention.MaxAge;
        return policy with
        {
            Paused = Paused ?? policy.Paused,
            Interval = schedule.Item1,
            Cron = schedule.Item2,
            Retention = policy.Retention with { Count = RetentionCount ?? policy.Retention.Count, MaxAge = maxAge },
        };
    }
}
