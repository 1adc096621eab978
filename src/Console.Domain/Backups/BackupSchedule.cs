using System.Globalization;
using Console.Domain.Clusters;

namespace Console.Domain.Backups;

/// <summary>
/// Where one cluster's schedule stands between two looks at it (kept by the scheduler, so it outlives restarts).
/// </summary>
/// <param name="Schedule">The schedule it was computed for (<see cref="BackupSchedule.Describe"/>): another one starts afresh.</param>
/// <param name="Since">When that schedule was first seen: the anchor of its first occurrence.</param>
/// <param name="LastOccurrence">The anchor of the next occurrence: the last occurrence taken, or the time it was taken
/// when it had been missed by more than one period.</param>
/// <param name="LastFiredAt">When a backup was last started for this cluster by the schedule, first backups included.</param>
public sealed record ScheduleState(string Schedule, DateTimeOffset Since, DateTimeOffset? LastOccurrence, DateTimeOffset? LastFiredAt);

/// <summary>What the scheduler knows besides the schedule when it asks what is due.</summary>
/// <param name="HasSucceeded">The cluster has at least one successful backup.</param>
/// <param name="Running">A backup of the cluster is running now.</param>
/// <param name="StartedAt">When this console process started.</param>
public sealed record ScheduleFacts(bool HasSucceeded, bool Running, DateTimeOffset StartedAt);

/// <summary>
/// A backup the schedule wants now. <paramref name="Occurrence"/> identifies it: its slot when taken in time, the moment
/// it is taken when it was missed by a whole period; each one is later than every backup the schedule started before.
/// </summary>
public sealed record DueBackup(DateTimeOffset Occurrence, bool First);

/// <summary>The state to keep (null: forget it) and the backup to start, if any.</summary>
public sealed record ScheduleDecision(ScheduleState? State, DueBackup? Due);

/// <summary>
/// When backups are due, for intervals and cron alike, with the time as input. Intervals are anchored on the schedule
/// itself: the first occurrence comes one interval after the schedule was set, each next one an interval after the
/// previous occurrence. A run missed (the console down, or paused) is taken once, late, and the rhythm restarts from
/// then: never a burst of catch-up runs. Cron fires on its slots in UTC. A cluster with no successful backup gets
/// one at once, once per console start.
/// </summary>
public static class BackupSchedule
{
    /// <summary>A stable description of the schedule; null when there is none.</summary>
    public static string? Describe(BackupPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Cron is { } cron ? "cron " + (CronText.TryParse(cron, out var parsed, out _) ? parsed.ToString() : cron.Trim())
            : policy.Interval is { } interval ? "interval " + interval.Ticks.ToString(CultureInfo.InvariantCulture)
            : null;
    }

    /// <summary>The first occurrence strictly after <paramref name="anchor"/>; null when the schedule never fires again.</summary>
    public static DateTimeOffset? NextAfter(BackupPolicy policy, DateTimeOffset anchor)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Cron is { } cron)
        {
            return CronText.TryParse(cron, out var parsed, out _) ? parsed.NextAfter(anchor) : null;
        }

        return policy.Interval is { } interval && interval > TimeSpan.Zero ? anchor + interval : null;
    }

    /// <summary>What to keep and what to start at <paramref name="now"/>.</summary>
    public static ScheduleDecision Evaluate(BackupPolicy policy, ScheduleState? state, ScheduleFacts facts, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(facts);
        var schedule = Describe(policy);
        if (!policy.Enabled || schedule is null)
        {
            return new ScheduleDecision(null, null);
        }

        var current = Current(schedule, state, now);
        if (policy.Paused)
        {
            return new ScheduleDecision(current, null);
        }

        var due = NextAfter(policy, current.LastOccurrence ?? current.Since) is { } next && next <= now ? next : (DateTimeOffset?)null;
        if (!facts.HasSucceeded && !facts.Running && (current.LastFiredAt is null || current.LastFiredAt < facts.StartedAt))
        {
            // The first backup stands in for an occurrence due at the same moment.
            var kept = current with { LastFiredAt = now, LastOccurrence = due is { } d ? Taken(policy, d, now) : current.LastOccurrence };
            return new ScheduleDecision(kept, new DueBackup(now, First: true));
        }

        if (due is not { } occurrence)
        {
            return new ScheduleDecision(current, null);
        }

        // A run missed by a whole period or more is taken now and counts as now's: the rhythm restarts from it.
        var taken = Taken(policy, occurrence, now);
        return new ScheduleDecision(current with { LastOccurrence = taken, LastFiredAt = now }, new DueBackup(taken, First: false));
    }

    /// <summary>When the next scheduled backup is due; null when there is no schedule, it is disabled or paused.</summary>
    public static DateTimeOffset? NextRun(BackupPolicy policy, ScheduleState? state, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (!policy.Enabled || policy.Paused || Describe(policy) is not { } schedule)
        {
            return null;
        }

        var current = Current(schedule, state, now);
        return NextAfter(policy, current.LastOccurrence ?? current.Since);
    }

    /// <summary>The schedule's period, used to judge staleness: for cron, the gap between its next two occurrences.</summary>
    public static TimeSpan? Period(BackupPolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Cron is null)
        {
            return policy.Interval;
        }

        return NextAfter(policy, now) is { } first && NextAfter(policy, first) is { } second ? second - first : null;
    }

    private static ScheduleState Current(string schedule, ScheduleState? state, DateTimeOffset now) =>
        state is not null && string.Equals(state.Schedule, schedule, StringComparison.Ordinal)
            ? state
            : new ScheduleState(schedule, now, null, state?.LastFiredAt);

    // Taken on time (or a little late): the rhythm holds. Missed by a whole period or more: the rhythm restarts now.
    private static DateTimeOffset Taken(BackupPolicy policy, DateTimeOffset occurrence, DateTimeOffset now) =>
        NextAfter(policy, occurrence) is { } following && following <= now ? now : occurrence;
}
