using Console.Domain.Alerts;
using Console.Domain.Backups;
using Console.Domain.Clusters;

namespace Console.Web.Tests.Domain.Alerts;

public sealed class AlertRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private static BackupHealth Health(int failures = 0, bool stale = false) =>
        new("prod", "every 1h", null, failures > 0 ? LastBackupState.Error : LastBackupState.Ok, failures > 0 ? "etcd unreachable" : null, Now, Now, failures, null, false, stale, stale ? "no success in 2h" : null);

    private static IReadOnlyList<string> Conditions(AlertFacts facts, int inARow = 2, TimeSpan? rpo = null) =>
        [.. AlertRules.Evaluate(facts, inARow, rpo).Select(c => c.Key)];

    public static TheoryData<string, AlertFacts, string[]> Cases => new()
    {
        { "all well", new(Health(), [("local", true, "ok")], null, null), [] },
        { "one failure is not yet in a row", new(Health(failures: 1), [], null, null), [] },
        { "two failures in a row", new(Health(failures: 2), [], null, null), ["ConsecutiveFailures|prod"] },
        { "stale", new(Health(stale: true), [], null, null), ["Stale|prod"] },
        { "a passed drill", new(Health(), [], new DrillVerdict { Cluster = "prod", FileName = "f", Target = "local", Outcome = DrillOutcome.Passed }, null), [] },
        { "a failed drill", new(Health(), [], new DrillVerdict { Cluster = "prod", FileName = "f", Target = "local", Outcome = DrillOutcome.Failed, Reason = "revision 5, expected 9" }, null), ["DrillFailed|prod"] },
        { "each unhealthy target on its own", new(Health(), [("local", false, "disk full"), ("s3", false, "403"), ("x", true, "ok")], null, null), ["TargetUnhealthy|prod|local", "TargetUnhealthy|prod|s3"] },
        { "a restore", new(Health(), [], null, ("alice", "StopMembers")), ["RestoreInProgress|prod"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Conditions_follow_the_facts(string because, AlertFacts facts, string[] expected)
    {
        Assert.True(expected.SequenceEqual(Conditions(facts)), because);
    }

    [Fact]
    public void A_continuous_rpo_above_the_threshold_fires_and_below_does_not()
    {
        var window = new RecoverableWindow(ClusterName.Parse("prod"), true, [new RecoverableSpan(1, 100, Now.AddHours(-1), Now.AddMinutes(-10), "snap")], [], Now.AddMinutes(-10));
        var continuous = ContinuousHealth.Evaluate(new ContinuousPolicy(true, TimeSpan.FromSeconds(1), 1 << 20), window, Now);
        var facts = new AlertFacts(Health() with { Continuous = continuous }, [], null, null);

        Assert.Equal(["ContinuousBehind|prod"], Conditions(facts, rpo: TimeSpan.FromMinutes(5)));
        Assert.Empty(Conditions(facts, rpo: TimeSpan.FromMinutes(15)));
        Assert.Contains("the RPO is 10m, above 5m", AlertRules.Evaluate(facts, 2, TimeSpan.FromMinutes(5))[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_reports_what_started_and_what_cleared()
    {
        var now = AlertRules.Evaluate(new(Health(failures: 3, stale: true), [], null, null), 2, null);

        var (started, cleared) = AlertRules.Diff(new HashSet<string> { "Stale|prod", "DrillFailed|prod" }, now);

        Assert.Equal(["ConsecutiveFailures|prod"], started.Select(c => c.Key));
        Assert.Equal(["DrillFailed|prod"], cleared);
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 20)]
    [InlineData(3, 40)]
    [InlineData(7, 600)]
    [InlineData(60, 600)]
    public void Back_off_doubles_up_to_the_maximum(int attempt, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), AlertRules.Backoff(attempt, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(10)));
}
