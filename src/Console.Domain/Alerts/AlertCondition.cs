using System.Globalization;
using Console.Domain.Backups;
using Console.Domain.Configuration;

namespace Console.Domain.Alerts;

/// <summary>What an alert is about. The names are persisted and sent in the webhook body: never rename them.</summary>
public enum AlertCondition
{
    ConsecutiveFailures,
    Stale,
    DrillFailed,
    TargetUnhealthy,
    ContinuousBehind,
    RestoreInProgress,
}

/// <summary>A condition that holds now for one cluster (and, for a target, that target): <see cref="Key"/> identifies it across evaluations.</summary>
public sealed record ActiveCondition(AlertCondition Condition, string Cluster, string? Subject, string Summary, string Detail)
{
    public string Key => Subject is null ? $"{Condition}|{Cluster}" : $"{Condition}|{Cluster}|{Subject}";

    /// <summary>The webhook's word for the condition, e.g. "consecutive-failures".</summary>
    public string Name => NameOf(Condition);

    public static string NameOf(AlertCondition condition) => condition switch
    {
        AlertCondition.ConsecutiveFailures => "consecutive-failures",
        AlertCondition.Stale => "stale",
        AlertCondition.DrillFailed => "drill-failed",
        AlertCondition.TargetUnhealthy => "target-unhealthy",
        AlertCondition.ContinuousBehind => "continuous-behind",
        AlertCondition.RestoreInProgress => "restore",
        _ => condition.ToString(),
    };
}

/// <summary>One cluster's facts, as the status table, the drill ledger, storage checks and restore sessions say them now.</summary>
public sealed record AlertFacts(
    BackupHealth Health,
    IReadOnlyList<(string Target, bool Ok, string Detail)> Targets,
    DrillVerdict? LastDrill,
    (string StartedBy, string Step)? Restore);

/// <summary>
/// Which conditions hold, from facts: pure, so the rules are a table of cases. A condition is reported with a summary
/// that names it and the cluster, and a detail that says why; neither ever carries a secret (they come from records).
/// </summary>
public static class AlertRules
{
    public static IReadOnlyList<ActiveCondition> Evaluate(AlertFacts facts, int consecutiveFailures, TimeSpan? rpoThreshold)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var health = facts.Health;
        var cluster = health.Cluster;
        var active = new List<ActiveCondition>();
        if (health.ConsecutiveFailures >= consecutiveFailures)
        {
            active.Add(new(AlertCondition.ConsecutiveFailures, cluster, null,
                $"{cluster}: {health.ConsecutiveFailures.ToString(CultureInfo.InvariantCulture)} backups failed in a row",
                health.LastError ?? "the last backups failed"));
        }

        if (health.Stale)
        {
            active.Add(new(AlertCondition.Stale, cluster, null, $"{cluster}: backups are stale", health.StaleReason ?? "no recent successful backup"));
        }

        if (facts.LastDrill is { Outcome: DrillOutcome.Failed } drill)
        {
            active.Add(new(AlertCondition.DrillFailed, cluster, null, $"{cluster}: the last restore drill failed",
                $"{drill.FileName} on {drill.Target}: {drill.Reason ?? "no reason recorded"}"));
        }

        foreach (var (target, ok, detail) in facts.Targets.Where(t => !t.Ok))
        {
            active.Add(new(AlertCondition.TargetUnhealthy, cluster, target, $"{cluster}: storage target {target} is unhealthy", detail));
        }

        if (health.Continuous is { } continuous)
        {
            // The threshold when set, else the status table's own limit; a break newer than the newest span means
            // recent history cannot be rebuilt (the rule ContinuousHealth applies to the row).
            var limit = rpoThreshold ?? continuous.RpoLimit;
            var reasons = new List<string>();
            if (continuous.Rpo is { } rpo && rpo > limit)
            {
                reasons.Add($"the RPO is {DurationText.Format(TimeSpan.FromSeconds(Math.Floor(rpo.TotalSeconds)))}, above {DurationText.Format(limit)}");
            }

            if (continuous.NewestBreak is { } newest && (continuous.Window.Current is not { } span || newest.At > span.FromTime))
            {
                reasons.Add($"continuity broke after revision {newest.AfterRevision.ToString(CultureInfo.InvariantCulture)}: {newest.Reason}");
            }

            if (reasons.Count > 0)
            {
                active.Add(new(AlertCondition.ContinuousBehind, cluster, null, $"{cluster}: continuous backup needs attention", string.Join("; ", reasons)));
            }
        }

        if (facts.Restore is { } restore)
        {
            active.Add(new(AlertCondition.RestoreInProgress, cluster, null, $"{cluster}: a restore is in progress",
                $"started by {restore.StartedBy}; at step {restore.Step}"));
        }

        return active;
    }

    /// <summary>What changed between the conditions held before (by key) and the ones that hold now.</summary>
    public static (IReadOnlyList<ActiveCondition> Started, IReadOnlyList<string> Cleared) Diff(IReadOnlySet<string> before, IReadOnlyList<ActiveCondition> now)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(now);
        var keys = now.Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        return ([.. now.Where(c => !before.Contains(c.Key)).DistinctBy(c => c.Key)], [.. before.Where(k => !keys.Contains(k)).Order(StringComparer.Ordinal)]);
    }

    /// <summary>How long attempt <paramref name="attempt"/> (1-based, just failed) waits before the next: doubling from <paramref name="first"/>, at most <paramref name="max"/>.</summary>
    public static TimeSpan Backoff(int attempt, TimeSpan first, TimeSpan max)
    {
        var factor = Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(first.Ticks * factor, max.Ticks));
        return delay < max ? delay : max;
    }
}
