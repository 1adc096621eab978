using Console.Domain.Backups;
using Console.Domain.Clusters;

namespace Console.Web.Tests.Domain.Backups;

/// <summary>The schedule rules the tick asks, with the time as input.</summary>
public sealed class BackupScheduleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 1, 30, 0, TimeSpan.Zero);
    private static readonly ScheduleFacts Succeeded = new(HasSucceeded: true, Running: false, StartedAt: T0.AddDays(-1));

    private static BackupPolicy Every(TimeSpan interval, bool paused = false) => new(true, interval, null, paused, RetentionPolicy.Default, ["local"]);

    private static BackupPolicy Cron(string cron) => new(true, null, cron, false, RetentionPolicy.Default, ["local"]);

    /// <summary>Ticks every <paramref name="step"/> from T0 until <paramref name="until"/>, keeping the state; the backups it starts.</summary>
    private static List<DueBackup> Run(BackupPolicy policy, ref ScheduleState? state, TimeSpan until, TimeSpan step, ScheduleFacts? facts = null)
    {
        var started = new List<DueBackup>();
        for (var at = TimeSpan.Zero; at <= until; at += step)
        {
            var decision = BackupSchedule.Evaluate(policy, state, facts ?? Succeeded, T0 + at);
            state = decision.State;
            if (decision.Due is { } due)
            {
                started.Add(due);
            }
        }

        return started;
    }

    [Theory]
    [InlineData("1m", 10, 10)]
    [InlineData("90m", 6 * 60, 4)]
    [InlineData("7h", 24 * 60, 3)]
    [InlineData("6h", 24 * 60, 4)]
    public void An_interval_fires_one_interval_after_it_is_set_and_every_interval_after(string interval, int minutes, int expected)
    {
        Assert.True(Console.Domain.Configuration.DurationText.TryParse(interval, out var span));
        ScheduleState? state = null;

        var started = Run(Every(span), ref state, TimeSpan.FromMinutes(minutes), TimeSpan.FromSeconds(15));

        Assert.Equal(expected, started.Count);
        Assert.Equal(Enumerable.Range(1, expected).Select(i => T0 + (span * i)), started.Select(d => d.Occurrence));
        Assert.All(started, d => Assert.False(d.First));
    }

    [Fact]
    public void Late_ticks_keep_the_interval_s_rhythm()
    {
        // The tick comes 40 s after each occurrence: occurrences stay on T0 + k * 90m, they do not drift.
        var policy = Every(TimeSpan.FromMinutes(90));
        var state = BackupSchedule.Evaluate(policy, null, Succeeded, T0).State;
        var occurrences = new List<DateTimeOffset>();
        for (var k = 1; k <= 3; k++)
        {
            var decision = BackupSchedule.Evaluate(policy, state, Succeeded, T0 + TimeSpan.FromMinutes(90 * k) + TimeSpan.FromSeconds(40));
            state = decision.State;
            occurrences.Add(decision.Due!.Occurrence);
        }

        Assert.Equal([T0.AddMinutes(90), T0.AddMinutes(180), T0.AddMinutes(270)], occurrences);
    }

    [Theory]
    [InlineData("0 */6 * * *", 24 * 60, "2026-11-21T06:00:00Z", 4)]
    [InlineData("* * * * *", 5, "2026-11-21T01:31:00Z", 5)]
    [InlineData("30 2 1 * *", 15 * 24 * 60, "2026-12-01T02:30:00Z", 1)]
    public void A_cron_fires_on_its_slots_in_utc(string cron, int minutes, string first, int expected)
    {
        ScheduleState? state = null;

        var started = Run(Cron(cron), ref state, TimeSpan.FromMinutes(minutes), TimeSpan.FromSeconds(15));

        Assert.Equal(expected, started.Count);
        Assert.Equal(DateTimeOffset.Parse(first, System.Globalization.CultureInfo.InvariantCulture), started[0].Occurrence);
    }

    [Theory]
    [InlineData("6h", null, 30, 1, 36)]            // down for a day: one run at once, the next 6 h later
    [InlineData(null, "0 */6 * * *", 30, 1, 36)]   // cron: one run at once, then its next slot (12:00 on the 22nd)
    public void A_run_missed_while_the_console_was_down_fires_once_not_as_a_burst(string? interval, string? cron, int downHours, int expectedAtOnce, int nextHour)
    {
        var policy = interval is null ? Cron(cron!) : Every(TimeSpan.FromHours(6));
        var state = BackupSchedule.Evaluate(policy, null, Succeeded, T0).State;
        var back = T0.AddHours(downHours); // 2026-11-22 07:30

        var ticks = Enumerable.Range(0, 40).Select(i => back.AddSeconds(15 * i)).ToList();
        var started = new List<DueBackup>();
        foreach (var now in ticks)
        {
            var decision = BackupSchedule.Evaluate(policy, state, Succeeded, now);
            state = decision.State;
            started.AddRange(decision.Due is { } d ? [d] : []);
        }

        Assert.Equal(expectedAtOnce, started.Count);
        Assert.Equal(back, started[0].Occurrence); // taken now, and counted as now's
        var next = BackupSchedule.NextRun(policy, state, ticks[^1])!.Value;
        Assert.Equal(interval is null ? new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero) : back.AddHours(6), next);
        Assert.True(next > T0.AddHours(nextHour - 6));
    }

    [Theory]
    [InlineData(true, false, false, false, null, true)]    // enabled, never succeeded: back up now
    [InlineData(true, true, false, false, null, false)]    // has a success: wait for the schedule
    [InlineData(true, false, true, false, null, false)]    // paused
    [InlineData(true, false, false, true, null, false)]    // already running
    [InlineData(false, false, false, false, null, false)]  // disabled
    [InlineData(true, false, false, false, -1, false)]     // already taken since this start
    [InlineData(true, false, false, false, -48, true)]     // taken before this start, still no success: again
    public void The_first_backup_is_taken_at_once_when_there_is_none(bool enabled, bool succeeded, bool paused, bool running, int? firedHoursAgo, bool expected)
    {
        var policy = Every(TimeSpan.FromHours(6), paused) with { Enabled = enabled };
        var startedAt = T0.AddHours(-24);
        var state = firedHoursAgo is { } h ? new ScheduleState(BackupSchedule.Describe(policy)!, T0.AddHours(-1), null, T0.AddHours(h)) : null;

        var decision = BackupSchedule.Evaluate(policy, state, new ScheduleFacts(succeeded, running, startedAt), T0);

        Assert.Equal(expected, decision.Due is { First: true });
        if (expected)
        {
            Assert.Equal(T0, decision.Due!.Occurrence);
        }
    }

    [Fact]
    public void A_first_backup_does_not_move_the_schedule_and_stands_in_for_an_occurrence_due_with_it()
    {
        var policy = Every(TimeSpan.FromHours(1));
        var state = new ScheduleState(BackupSchedule.Describe(policy)!, T0.AddMinutes(-90), null, null);
        var noSuccess = new ScheduleFacts(false, false, T0.AddMinutes(-1));

        var decision = BackupSchedule.Evaluate(policy, state, noSuccess, T0);

        // T0-90m + 1h was due at T0-30m: the first backup takes its place, and the next comes an hour after it.
        Assert.True(decision.Due!.First);
        Assert.Equal(T0.AddMinutes(30), BackupSchedule.NextRun(policy, decision.State, T0));
        Assert.Null(BackupSchedule.Evaluate(policy, decision.State, noSuccess, T0.AddSeconds(15)).Due);
    }

    [Fact]
    public void Paused_nothing_fires_and_there_is_no_next_run_resumed_a_missed_run_fires_once()
    {
        var policy = Every(TimeSpan.FromHours(1));
        var state = BackupSchedule.Evaluate(policy, null, Succeeded, T0).State;
        var paused = policy with { Paused = true };

        var started = Run(paused, ref state, TimeSpan.FromHours(3), TimeSpan.FromMinutes(1));

        Assert.Empty(started);
        Assert.Null(BackupSchedule.NextRun(paused, state, T0.AddHours(3)));
        var resumed = BackupSchedule.Evaluate(policy, state, Succeeded, T0.AddHours(3));
        Assert.NotNull(resumed.Due);
        Assert.Null(BackupSchedule.Evaluate(policy, resumed.State, Succeeded, T0.AddHours(3).AddSeconds(15)).Due);
        Assert.Equal(T0.AddHours(4), BackupSchedule.NextRun(policy, resumed.State, T0.AddHours(3)));
    }

    [Fact]
    public void A_changed_schedule_starts_afresh_from_the_change_and_an_unchanged_one_keeps_its_place()
    {
        var state = BackupSchedule.Evaluate(Every(TimeSpan.FromHours(6)), null, Succeeded, T0).State;
        var later = T0.AddHours(2);

        Assert.Equal(T0.AddHours(6), BackupSchedule.NextRun(Every(TimeSpan.FromHours(6)), state, later));
        Assert.Equal(later.AddHours(2), BackupSchedule.NextRun(Every(TimeSpan.FromHours(2)), state, later));
        var changed = BackupSchedule.Evaluate(Every(TimeSpan.FromHours(2)), state, Succeeded, later);
        Assert.Null(changed.Due);
        Assert.Equal(later, changed.State!.Since);
        Assert.Equal(later.AddHours(2), BackupSchedule.NextRun(Every(TimeSpan.FromHours(2)), changed.State, later));
    }

    [Fact]
    public void Disabled_or_unscheduled_forgets_the_state()
    {
        var state = BackupSchedule.Evaluate(Every(TimeSpan.FromHours(6)), null, Succeeded, T0).State;

        Assert.Equal(new ScheduleDecision(null, null), BackupSchedule.Evaluate(Every(TimeSpan.FromHours(6)) with { Enabled = false }, state, Succeeded, T0));
        Assert.Null(BackupSchedule.NextRun(BackupPolicy.Default, state, T0));
    }

    [Theory]
    [InlineData("0 */6 * * *", 6 * 3600)]
    [InlineData("0 0 * * MON-FRI", 86_400)]
    public void The_staleness_period_of_a_cron_is_the_gap_between_its_next_two_firings(string cron, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), BackupSchedule.Period(Cron(cron), T0));

    [Fact]
    public void Describing_a_schedule_names_interval_and_cron_and_ignores_pause()
    {
        Assert.NotEqual(BackupSchedule.Describe(Every(TimeSpan.FromHours(6))), BackupSchedule.Describe(Every(TimeSpan.FromHours(2))));
        Assert.Equal(BackupSchedule.Describe(Every(TimeSpan.FromHours(6))), BackupSchedule.Describe(Every(TimeSpan.FromHours(6), paused: true)));
        Assert.Equal(BackupSchedule.Describe(Cron("0 */6 * * *")), BackupSchedule.Describe(Cron(" 0  */6 * * * ")));
    }
}
