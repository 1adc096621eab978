using Console.Domain.Configuration;

namespace Console.Domain.Backups;

/// <summary>
/// The rules a cluster's backup settings must satisfy, shared by start-up validation and the Settings page so an
/// edit is held to exactly what the configuration file is. Cron is checked by <see cref="CronText"/> (ranges, and no two
/// firings closer than <see cref="MinimumInterval"/>), the same parser that says when it fires
/// (<see cref="BackupSchedule"/>), so what validates is what runs.
/// </summary>
public static class BackupScheduleRules
{
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromMinutes(1);

    /// <summary>Problems with a schedule and retention, each phrased for <paramref name="path"/> (a configuration path).</summary>
    public static IReadOnlyList<string> Validate(
        string path,
        bool enabled,
        string? interval,
        string? cron,
        int? retentionCount,
        string? retentionMaxAge) =>
        Check(enabled, interval, cron, retentionCount, retentionMaxAge).Select(p => p.At(path)).ToList();

    /// <summary>Problems with a schedule and retention, each with the field it is about, so a form can show it there.</summary>
    public static IReadOnlyList<ScheduleProblem> Check(
        bool enabled,
        string? interval,
        string? cron,
        int? retentionCount,
        string? retentionMaxAge)
    {
        var errors = new List<ScheduleProblem>();
        var hasInterval = !string.IsNullOrWhiteSpace(interval);
        var hasCron = !string.IsNullOrWhiteSpace(cron);
        if (hasInterval && hasCron)
        {
            errors.Add(new(ScheduleField.Schedule, "set either Interval or Cron, not both."));
        }

        if (hasInterval)
        {
            if (!DurationText.TryParse(interval, out var value))
            {
                errors.Add(new(ScheduleField.Interval, $"'{interval}' is not a duration such as 30m, 6h, 1d or 06:00:00."));
            }
            else if (value < MinimumInterval)
            {
                errors.Add(new(ScheduleField.Interval, $"'{interval}' is {(value < TimeSpan.Zero ? "negative" : "shorter than one minute")}; the shortest interval is 1m."));
            }
        }

        if (hasCron)
        {
            if (!CronText.TryParse(cron, out var parsed, out var problem))
            {
                errors.Add(new(ScheduleField.Cron, $"'{cron}' is not a valid cron expression ({problem})."));
            }
            else if (parsed.ShortestGap() is not { } gap)
            {
                errors.Add(new(ScheduleField.Cron, $"'{cron}' is not a valid cron expression (it never fires)."));
            }
            else if (gap < MinimumInterval)
            {
                errors.Add(new(ScheduleField.Cron, $"'{cron}' fires more often than once a minute (every {DurationText.Format(gap)} at the shortest); the shortest period allowed is 1m."));
            }
        }

        if (enabled && !hasInterval && !hasCron)
        {
            errors.Add(new(ScheduleField.Schedule, "backups are enabled but there is no schedule; set Interval (e.g. 6h) or Cron (e.g. 0 */6 * * *)."));
        }

        if (retentionCount is < 0)
        {
            errors.Add(new(ScheduleField.RetentionCount, $"must not be negative (was {retentionCount})."));
        }

        if (!string.IsNullOrWhiteSpace(retentionMaxAge))
        {
            if (!DurationText.TryParse(retentionMaxAge, out var maxAge))
            {
                errors.Add(new(ScheduleField.RetentionMaxAge, $"'{retentionMaxAge}' is not a duration such as 7d or 12h."));
            }
            else if (maxAge <= TimeSpan.Zero)
            {
                errors.Add(new(ScheduleField.RetentionMaxAge, $"must be positive (was {retentionMaxAge})."));
            }
        }

        return errors;
    }
}

/// <summary>What a schedule problem is about: one field of the schedule, or the schedule as a whole.</summary>
public enum ScheduleField
{
    Schedule,
    Interval,
    Cron,
    RetentionCount,
    RetentionMaxAge,
}

/// <summary>One problem with a schedule: the field it is about, and what is wrong, in words.</summary>
public sealed record ScheduleProblem(ScheduleField Field, string Message)
{
    /// <summary>The message as start-up says it, after the configuration path of its field.</summary>
    public string At(string path) => Field switch
    {
        ScheduleField.Interval => $"{path}:Interval: {Message}",
        ScheduleField.Cron => $"{path}:Cron: {Message}",
        ScheduleField.RetentionCount => $"{path}:Retention:Count: {Message}",
        ScheduleField.RetentionMaxAge => $"{path}:Retention:MaxAge: {Message}",
        _ => $"{path}: {Message}",
    };
}
