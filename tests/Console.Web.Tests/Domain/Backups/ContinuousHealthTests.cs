using Console.Domain.Backups;
using Console.Domain.Clusters;

namespace Console.Web.Tests.Domain.Backups;

/// <summary>When a cluster's recoverable window makes its row stand out: a table of cases, time passed in.</summary>
public sealed class ContinuousHealthTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly ClusterName Prod = ClusterName.Parse("prod");
    private static readonly ContinuousPolicy OneSecond = new(true, TimeSpan.FromSeconds(1), ContinuousPolicy.DefaultMaxSegmentBytes);

    private static RecoverableWindow Window(double durableSecondsAgo, double spanStartedSecondsAgo = 3600, double? breakSecondsAgo = null) => new(
        Prod,
        true,
        [new RecoverableSpan(100, 250, Now.AddSeconds(-spanStartedSecondsAgo), Now.AddSeconds(-durableSecondsAgo), "prod_20261202T110000.000Z.db")],
        breakSecondsAgo is { } b ? [new ContinuityBreak(90, 100, Now.AddSeconds(-b), "the watcher fell behind a compaction")] : [],
        Now.AddSeconds(-durableSecondsAgo));

    [Theory]
    [InlineData(1, 1, false)] // 1 s flush: the limit is the 30 s floor
    [InlineData(1, 29, false)]
    [InlineData(1, 31, true)]
    [InlineData(10, 90, false)] // 10 s flush: ten intervals, 100 s
    [InlineData(10, 101, true)]
    public void The_rpo_stands_out_above_ten_flushes_and_at_least_thirty_seconds(int flushSeconds, double durableSecondsAgo, bool alert)
    {
        var policy = OneSecond with { FlushInterval = TimeSpan.FromSeconds(flushSeconds) };

        var health = ContinuousHealth.Evaluate(policy, Window(durableSecondsAgo), Now)!;

        Assert.Equal(TimeSpan.FromSeconds(durableSecondsAgo), health.Rpo);
        Assert.Equal(alert, health.Alert);
        if (alert)
        {
            Assert.Contains("behind (RPO)", health.AlertReason, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(120.0, true)] // broke after the newest span began: recent history cannot be rebuilt
    [InlineData(7200.0, false)] // broke before it: a full snapshot has started a new span since
    public void A_break_stands_out_only_while_no_newer_span_began(double breakSecondsAgo, bool alert)
    {
        var health = ContinuousHealth.Evaluate(OneSecond, Window(1, spanStartedSecondsAgo: 3600, breakSecondsAgo), Now)!;

        Assert.Equal(alert, health.Alert);
        Assert.Equal("the watcher fell behind a compaction", health.NewestBreak!.Reason);
        if (alert)
        {
            Assert.Contains("the watcher fell behind a compaction", health.AlertReason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_break_with_no_span_at_all_stands_out()
    {
        var window = new RecoverableWindow(Prod, true, [], [new ContinuityBreak(90, null, Now.AddHours(-5), "segment failed its check")], Now.AddSeconds(-1));

        Assert.True(ContinuousHealth.Evaluate(OneSecond, window, Now)!.Alert);
    }

    [Theory]
    [InlineData(10.0, false)]
    [InlineData(60.0, true)]
    public void Nothing_durable_stands_out_once_the_console_has_been_up_longer_than_the_limit(double upSeconds, bool alert)
    {
        var empty = new RecoverableWindow(Prod, true, [], [], null);

        var health = ContinuousHealth.Evaluate(OneSecond, empty, Now, since: Now.AddSeconds(-upSeconds))!;

        Assert.Null(health.Rpo);
        Assert.Equal(alert, health.Alert);
    }

    [Fact]
    public void Continuous_off_gives_nothing()
    {
        Assert.Null(ContinuousHealth.Evaluate(ContinuousPolicy.Disabled, Window(500), Now));
    }

    [Fact]
    public void The_status_row_is_stale_with_the_windows_reason_even_with_a_fresh_full_backup()
    {
        var policy = new BackupPolicy(true, TimeSpan.FromHours(6), null, false, RetentionPolicy.Default, ["local"]) { Continuous = OneSecond };
        var fresh = new BackupRecord { Cluster = "prod", Status = BackupStatus.Succeeded, StartedAt = Now.AddMinutes(-10), FinishedAt = Now.AddMinutes(-9) };

        var behind = BackupHealth.Evaluate("prod", policy, policy.Interval, fresh, fresh, 0, false, Now.AddHours(1), Now, window: Window(120));
        var current = BackupHealth.Evaluate("prod", policy, policy.Interval, fresh, fresh, 0, false, Now.AddHours(1), Now, window: Window(2));
        var off = BackupHealth.Evaluate("prod", policy with { Continuous = ContinuousPolicy.Disabled }, policy.Interval, fresh, fresh, 0, false, Now.AddHours(1), Now, window: Window(120));

        Assert.True(behind.Stale);
        Assert.Contains("behind (RPO)", behind.StaleReason, StringComparison.Ordinal);
        Assert.False(current.Stale);
        Assert.NotNull(current.Continuous);
        Assert.False(off.Stale);
        Assert.Null(off.Continuous);
    }
}
