using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Scheduling;
using Console.Web.Tests.Fixtures;
using Quartz.Extensibility;

namespace Console.Web.Tests.Infrastructure.Scheduling;

/// <summary>The triggers the console builds, driven by Quartz's own trigger logic under a manual clock.</summary>
public sealed class ScheduleMathTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 1, 30, 0, TimeSpan.Zero);

    private static ClusterSpec Cluster(BackupPolicy policy) =>
        new(ClusterName.Parse("prod"), [new Uri("http://10.0.0.1:2379")], null, null, []) { Backup = policy };

    private static BackupPolicy Every(TimeSpan interval, bool paused = false) => new(true, interval, null, paused, RetentionPolicy.Default, ["local"]);

    private static BackupPolicy Cron(string cron) => new(true, null, cron, false, RetentionPolicy.Default, ["local"]);

    private static IOperableTrigger Trigger(BackupPolicy policy, ManualClock clock)
    {
        var trigger = (IOperableTrigger)BackupTriggers.Create(Cluster(policy), clock.Now, clock);
        trigger.ComputeFirstFireTimeUtc(null);
        return trigger;
    }

    [Fact]
    public void An_interval_fires_one_interval_after_it_is_scheduled_and_every_interval_after()
    {
        var clock = new ManualClock(T0);
        var trigger = Trigger(Every(TimeSpan.FromHours(6)), clock);

        Assert.Equal(T0.AddHours(6), trigger.NextFireTimeUtc);
        Assert.Equal(T0.AddHours(12), trigger.GetFireTimeAfter(T0.AddHours(6)));
    }

    [Fact]
    public void A_five_field_cron_fires_on_its_slots_in_utc()
    {
        var clock = new ManualClock(T0);
        var trigger = Trigger(Cron("0 */6 * * *"), clock);

        Assert.Equal(new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.Zero), trigger.NextFireTimeUtc);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero), trigger.GetFireTimeAfter(trigger.NextFireTimeUtc));
    }

    [Theory]
    [InlineData("0 3 * * 0", 2026, 11, 22, 3)] // Sunday 03:00 (standard cron counts Sunday as 0)
    [InlineData("30 2 1 * *", 2026, 12, 1, 2)] // the 1st of the month, 02:30
    public void Standard_cron_weekdays_and_month_days_mean_what_they_mean_in_cron(string cron, int year, int month, int day, int hour)
    {
        var trigger = Trigger(Cron(cron), new ManualClock(T0));

        var next = trigger.NextFireTimeUtc!.Value;
        Assert.Equal((year, month, day, hour), (next.Year, next.Month, next.Day, next.Hour));
    }

    [Fact]
    public void An_interval_missed_while_the_console_was_down_fires_once_now_and_then_resumes_its_rhythm()
    {
        var clock = new ManualClock(T0);
        var trigger = Trigger(Every(TimeSpan.FromHours(6)), clock);

        clock.Advance(TimeSpan.FromHours(30)); // down for a day: four runs missed
        trigger.UpdateAfterMisfire(null);

        Assert.Equal(clock.Now, trigger.NextFireTimeUtc);
        trigger.Triggered(null);
        Assert.Equal(clock.Now.AddHours(6), trigger.NextFireTimeUtc);
    }

    [Fact]
    public void A_cron_missed_while_the_console_was_down_fires_once_now_and_then_keeps_its_slots()
    {
        var clock = new ManualClock(T0);
        var trigger = Trigger(Cron("0 */6 * * *"), clock);

        clock.Advance(TimeSpan.FromHours(30)); // now 2026-11-22 07:30
        trigger.UpdateAfterMisfire(null);

        Assert.Equal(clock.Now, trigger.NextFireTimeUtc);
        trigger.Triggered(null);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero), trigger.NextFireTimeUtc);
    }

    [Theory]
    [InlineData(true, false, false, false, true)]   // enabled, never succeeded: back up now
    [InlineData(true, true, false, false, false)]   // has a success: wait for the schedule
    [InlineData(true, false, true, false, false)]   // paused
    [InlineData(true, false, false, true, false)]   // already running
    [InlineData(false, false, false, false, false)] // disabled
    public void The_first_backup_is_taken_at_start_only_for_enabled_unpaused_clusters_without_one(bool enabled, bool succeeded, bool paused, bool running, bool expected)
    {
        var policy = Every(TimeSpan.FromHours(6), paused) with { Enabled = enabled };

        Assert.Equal(expected, BackupTriggers.NeedsFirstBackup(policy, succeeded, running));
    }

    [Fact]
    public void The_staleness_period_of_a_cron_is_the_gap_between_its_firings() =>
        Assert.Equal(TimeSpan.FromHours(6), BackupTriggers.Period(Cron("0 */6 * * *"), T0));

    [Fact]
    public void Changing_the_schedule_changes_its_description_so_the_trigger_is_replaced()
    {
        Assert.NotEqual(BackupTriggers.Describe(Every(TimeSpan.FromHours(6))), BackupTriggers.Describe(Every(TimeSpan.FromHours(2))));
        Assert.Equal(BackupTriggers.Describe(Every(TimeSpan.FromHours(6))), BackupTriggers.Describe(Every(TimeSpan.FromHours(6), paused: true)));
        Assert.Equal("cron:0 0 */6 * * ?", BackupTriggers.Describe(Cron("0 */6 * * *")));
    }
}
