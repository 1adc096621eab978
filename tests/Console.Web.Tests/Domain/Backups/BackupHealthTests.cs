using Console.Domain.Backups;
using Console.Domain.Clusters;

namespace Console.Web.Tests.Domain.Backups;

public sealed class BackupHealthTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private static readonly BackupPolicy SixHours = new(true, TimeSpan.FromHours(6), null, false, RetentionPolicy.Default, ["local", "s3"]);

    private static BackupRecord Record(BackupStatus status, double hoursAgo, string? error = null) => new()
    {
        Cluster = "prod",
        Status = status,
        StartedAt = Now.AddHours(-hoursAgo),
        FinishedAt = Now.AddHours(-hoursAgo).AddMinutes(1),
        Error = error,
    };

    private static BackupHealth Evaluate(BackupPolicy policy, BackupRecord? attempt, BackupRecord? success, bool running = false, int failures = 0, DateTimeOffset? since = null) =>
        BackupHealth.Evaluate("prod", policy, policy.Interval, attempt, success, failures, running, Now.AddHours(1), Now, since);

    [Fact]
    public void A_recent_success_is_ok_with_the_next_run_shown()
    {
        var success = Record(BackupStatus.Succeeded, 2);

        var health = Evaluate(SixHours, success, success);

        Assert.Equal(LastBackupState.Ok, health.LastStatus);
        Assert.False(health.Stale);
        Assert.Equal(Now.AddHours(1), health.NextRunAt);
        Assert.Equal("local+s3", health.Configuration);
    }

    [Fact]
    public void The_last_attempt_failing_is_an_error_with_its_text_and_the_failure_count()
    {
        var health = Evaluate(SixHours, Record(BackupStatus.Failed, 1, "connection refused"), Record(BackupStatus.Succeeded, 7), failures: 2);

        Assert.Equal(LastBackupState.Error, health.LastStatus);
        Assert.Equal("connection refused", health.LastError);
        Assert.Equal(2, health.ConsecutiveFailures);
        Assert.False(health.Stale);
    }

    [Fact]
    public void A_success_older_than_twice_the_interval_is_stale_whatever_the_last_attempt_says()
    {
        var health = Evaluate(SixHours, Record(BackupStatus.Running, 0.1), Record(BackupStatus.Succeeded, 13), running: true);

        Assert.True(health.Stale);
        Assert.Equal(LastBackupState.Running, health.LastStatus);
        Assert.Contains("more than twice the 6h schedule", health.StaleReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Just_under_twice_the_interval_is_not_stale() =>
        Assert.False(Evaluate(SixHours, Record(BackupStatus.Succeeded, 11.9), Record(BackupStatus.Succeeded, 11.9)).Stale);

    [Fact]
    public void Never_succeeding_for_twice_the_interval_since_scheduling_is_stale()
    {
        Assert.True(Evaluate(SixHours, Record(BackupStatus.Failed, 1), null, since: Now.AddHours(-13)).Stale);
        Assert.False(Evaluate(SixHours, null, null, since: Now.AddHours(-1)).Stale);
    }

    [Fact]
    public void A_paused_cluster_has_no_next_run_and_is_not_stale()
    {
        var health = Evaluate(SixHours with { Paused = true }, Record(BackupStatus.Succeeded, 48), Record(BackupStatus.Succeeded, 48));

        Assert.True(health.Paused);
        Assert.Null(health.NextRunAt);
        Assert.False(health.Stale);
    }

    [Fact]
    public void Disabled_backups_say_so_and_are_never_stale()
    {
        var health = Evaluate(SixHours with { Enabled = false }, null, null, since: Now.AddDays(-10));

        Assert.Equal("disabled", health.Configuration);
        Assert.Equal(LastBackupState.Unknown, health.LastStatus);
        Assert.False(health.Stale);
    }
}
