using Console.Domain.Backups;

namespace Console.Domain.Configuration;

/// <summary>
/// The GFS and per-target keys of Backup:Retention: checked at start-up (every problem listed), then parsed into the
/// cluster's <see cref="RetentionPolicy"/> and the targets' <see cref="RetentionOverride"/>s. The cluster's Count and
/// MaxAge are checked by <see cref="BackupScheduleRules"/>, which the Settings page shares.
/// </summary>
public static class RetentionRules
{
    /// <summary>Problems with the retention settings at <paramref name="path"/> (…:Backup:Retention).</summary>
    public static IReadOnlyList<string> Validate(string path, RetentionSettings retention)
    {
        ArgumentNullException.ThrowIfNull(retention);
        var errors = new List<string>();
        Slots(path, retention.Hourly, retention.Daily, retention.Weekly, retention.Monthly, retention.Yearly, errors);
        foreach (var (target, o) in Targets(retention.Targets))
        {
            var at = $"{path}:Targets:{target}";
            errors.AddRange(BackupScheduleRules.Check(false, null, null, o.Count, o.MaxAge)
                .Select(p => $"{at}:{(p.Field == ScheduleField.RetentionCount ? "Count" : "MaxAge")}: {p.Message}"));
            Slots(at, o.Hourly, o.Daily, o.Weekly, o.Monthly, o.Yearly, errors);
        }

        return errors;
    }

    /// <summary>The cluster's policy. Call only after <see cref="Validate"/> found nothing.</summary>
    public static RetentionPolicy Parse(RetentionSettings retention)
    {
        ArgumentNullException.ThrowIfNull(retention);
        return new(retention.Count, Duration(retention.MaxAge), retention.Hourly, retention.Daily, retention.Weekly, retention.Monthly, retention.Yearly);
    }

    /// <summary>The targets' changes to the cluster's policy, only for targets that set something.</summary>
    public static IReadOnlyDictionary<string, RetentionOverride> ParseTargets(RetentionTargetsSettings targets) =>
        Targets(targets)
            .Select(t => (t.Target, Override: new RetentionOverride(t.Settings.Count, Duration(t.Settings.MaxAge), t.Settings.Hourly, t.Settings.Daily, t.Settings.Weekly, t.Settings.Monthly, t.Settings.Yearly)))
            .Where(t => !t.Override.IsEmpty)
            .ToDictionary(t => t.Target, t => t.Override, StringComparer.Ordinal);

    private static IEnumerable<(string Target, RetentionOverrideSettings Settings)> Targets(RetentionTargetsSettings targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        yield return ("local", targets.Local);
        yield return ("s3", targets.S3);
    }

    private static TimeSpan? Duration(string? text) => DurationText.TryParse(text, out var value) ? value : null;

    private static void Slots(string path, int? hourly, int? daily, int? weekly, int? monthly, int? yearly, List<string> errors)
    {
        foreach (var (key, value) in new[] { ("Hourly", hourly), ("Daily", daily), ("Weekly", weekly), ("Monthly", monthly), ("Yearly", yearly) })
        {
            if (value is < 0)
            {
                errors.Add($"{path}:{key}: must not be negative (was {value}); 0 or unset turns the slot off.");
            }
        }
    }
}
