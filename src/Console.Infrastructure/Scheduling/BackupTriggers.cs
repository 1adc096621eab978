using System.Globalization;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Quartz;

namespace Console.Infrastructure.Scheduling;

/// <summary>
/// Builds the one recurring trigger per cluster. Misfires (the console was down when a run was due) fire once, now,
/// and then the schedule carries on: never a burst of catch-up runs.
/// </summary>
public static class BackupTriggers
{
    public const string Group = "backups";
    public const string ScheduleKey = "schedule";
    public const string ClusterKey = "cluster";

    public static JobKey JobKeyFor(string cluster) => new($"backup-{cluster}", Group);

    public static TriggerKey TriggerKeyFor(string cluster) => new($"backup-{cluster}", Group);

    /// <summary>A stable description of the schedule, stored on the trigger so a changed schedule is noticed.</summary>
    public static string? Describe(BackupPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Cron is { } cron ? $"cron:{CronText.ToQuartz(cron)}"
            : policy.Interval is { } interval ? $"interval:{interval.Ticks.ToString(CultureInfo.InvariantCulture)}"
            : null;
    }

    public static ITrigger Create(ClusterSpec cluster, DateTimeOffset now, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var policy = cluster.Backup;
        var builder = TriggerBuilder.Create(clock)
            .WithIdentity(TriggerKeyFor(cluster.Name.Value))
            .ForJob(JobKeyFor(cluster.Name.Value))
            .UsingJobData(ScheduleKey, Describe(policy) ?? throw new ArgumentException($"cluster {cluster.Name} has no schedule", nameof(cluster)))
            .UsingJobData(ClusterKey, cluster.Name.Value);

        if (policy.Cron is { } cron)
        {
            var schedule = CronScheduleBuilder.Create(new CronExpression(CronText.ToQuartz(cron), TimeZoneInfo.Utc))
                .WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed);
            return builder.WithSchedule(schedule).StartAt(now).Build();
        }

        var interval = policy.Interval!.Value;
        var simple = SimpleScheduleBuilder.Create()
            .WithInterval(interval)
            .RepeatForever()
            .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NowWithExistingCount);
        return builder.WithSchedule(simple).StartAt(now + interval).Build();
    }

    /// <summary>Whether the console should take a backup at start: enabled, scheduled, not paused, never succeeded.</summary>
    public static bool NeedsFirstBackup(BackupPolicy policy, bool hasSucceeded, bool running)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Enabled && !policy.Paused && Describe(policy) is not null && !hasSucceeded && !running;
    }

    /// <summary>The schedule's period, used to judge staleness (twice the period without a success).</summary>
    public static TimeSpan? Period(BackupPolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Cron is { } cron ? QuartzCron.Period(CronText.ToQuartz(cron), now) : policy.Interval;
    }
}
