using System.Globalization;

namespace Console.Domain.Backups;

/// <summary>
/// Which snapshots retention keeps. A snapshot is kept if ANY rule keeps it (the rules are a union, never an
/// intersection):
/// <list type="bullet">
/// <item>it is the newest (never deleted, whatever the policy);</item>
/// <item>it is protected (or otherwise held by the caller, e.g. a local copy whose upload is pending);</item>
/// <item>the count window: it is among the newest <see cref="Count"/> (null: no limit) AND not older than
/// <see cref="MaxAge"/> (null: no limit) — <see cref="MaxAge"/> bounds only this window, not the slots below;</item>
/// <item>a GFS slot: it is the representative of one of the newest <see cref="Hourly"/>, <see cref="Daily"/>,
/// <see cref="Weekly"/>, <see cref="Monthly"/> or <see cref="Yearly"/> periods that have snapshots (null or 0: that
/// slot is off). The representative of a period is its NEWEST snapshot. Periods are UTC hours, days, ISO weeks (Monday
/// start, so the last days of December can belong to week 1 of the next year), months and years. One snapshot can
/// fill several slots.</item>
/// </list>
/// Without a count window limit (Count and MaxAge both null) everything is kept, so GFS slots only matter beside a Count
/// or a MaxAge (Count 0 gives pure GFS).
/// </summary>
public sealed record RetentionPolicy(
    int? Count,
    TimeSpan? MaxAge,
    int? Hourly = null,
    int? Daily = null,
    int? Weekly = null,
    int? Monthly = null,
    int? Yearly = null)
{
    public static readonly RetentionPolicy Default = new(7, null);

    /// <summary>The GFS slots that are on (more than 0), finest period first.</summary>
    public IEnumerable<(RetentionPeriod Period, int Slots)> GfsSlots()
    {
        foreach (var (period, slots) in new[] { (RetentionPeriod.Hourly, Hourly), (RetentionPeriod.Daily, Daily), (RetentionPeriod.Weekly, Weekly), (RetentionPeriod.Monthly, Monthly), (RetentionPeriod.Yearly, Yearly) })
        {
            if (slots is { } n && n > 0)
            {
                yield return (period, n);
            }
        }
    }

    /// <summary>"24 hourly, 7 daily, 4 weekly, 12 monthly", or empty when no slot is on.</summary>
    public string GfsText => string.Join(", ", GfsSlots().Select(s => $"{s.Slots} {s.Period.ToString().ToLowerInvariant()}"));

    public override string ToString()
    {
        var window = (Count, MaxAge) switch
        {
            (null, null) => "keep everything",
            ({ } c, null) => $"keep newest {c}",
            (null, { } a) => $"keep {Configuration.DurationText.Format(a)}",
            ({ } c, { } a) => $"keep newest {c}, at most {Configuration.DurationText.Format(a)} old",
        };
        return GfsText switch
        {
            "" => window,
            _ when Count is null && MaxAge is null => window,
            var gfs when Count == 0 && MaxAge is null => $"keep {gfs}",
            var gfs => $"{window}; {gfs}",
        };
    }
}

/// <summary>The periods of GFS retention, all in UTC.</summary>
public enum RetentionPeriod
{
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// <summary>
/// A target's changes to its cluster's retention (Backup:Retention:Targets:local / :s3): what is set wins, what is not
/// falls back to the cluster's policy.
/// </summary>
public sealed record RetentionOverride(
    int? Count = null,
    TimeSpan? MaxAge = null,
    int? Hourly = null,
    int? Daily = null,
    int? Weekly = null,
    int? Monthly = null,
    int? Yearly = null)
{
    public bool IsEmpty => this == new RetentionOverride();

    public RetentionPolicy ApplyTo(RetentionPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new(
            Count ?? policy.Count,
            MaxAge ?? policy.MaxAge,
            Hourly ?? policy.Hourly,
            Daily ?? policy.Daily,
            Weekly ?? policy.Weekly,
            Monthly ?? policy.Monthly,
            Yearly ?? policy.Yearly);
    }
}

/// <summary>A snapshot retention keeps, with every rule that keeps it ("newest", "daily 2026-11-30", ...).</summary>
public sealed record KeptSnapshot(SnapshotName Name, IReadOnlyList<string> Reasons)
{
    public string FileName => Name.FileName;

    public override string ToString() => $"{Name.FileName} ({string.Join(" · ", Reasons)})";
}

/// <summary>
/// What retention keeps and deletes, and why; <see cref="Foreign"/> are files named like our snapshots that the console
/// cannot vouch for (no manifest of ours, unknown to the ledger): they are neither counted nor deleted.
/// </summary>
public sealed record RetentionPlan(IReadOnlyList<KeptSnapshot> Keep, IReadOnlyList<(SnapshotName Name, string Reason)> Delete, IReadOnlyList<SnapshotName> Foreign);

public static class RetentionPlanner
{
    public const string NewestReason = "newest";
    public const string ProtectedReason = "protected";

    /// <inheritdoc cref="Plan(IEnumerable{string}, Clusters.ClusterName, RetentionPolicy, DateTimeOffset, IReadOnlySet{string}, IReadOnlyDictionary{string, string})"/>
    /// <param name="protectedNames">Names never deleted; their reason is "protected".</param>
    public static RetentionPlan Plan(
        IEnumerable<string> fileNames,
        Clusters.ClusterName cluster,
        RetentionPolicy policy,
        DateTimeOffset now,
        IReadOnlySet<string> known,
        IReadOnlySet<string>? protectedNames = null) =>
        Plan(fileNames, cluster, policy, now, known, (protectedNames ?? new HashSet<string>()).ToDictionary(n => n, _ => ProtectedReason, StringComparer.Ordinal));

    /// <summary>
    /// Plans pruning of one cluster's snapshots in one target. Only names that parse as ours, belong to
    /// <paramref name="cluster"/> and are in <paramref name="known"/> (the console wrote a manifest for them or has them in
    /// its ledger) are counted: a look-alike dated in the future would otherwise push real snapshots out of the count, and
    /// fill the newest GFS periods. The newest known snapshot is always kept, whatever the policy (a backup system that
    /// deletes its last good copy is worse than none); <paramref name="held"/> names are never deleted, kept for the
    /// reason given ("protected", "upload pending"). See <see cref="RetentionPolicy"/> for the rules.
    /// </summary>
    public static RetentionPlan Plan(
        IEnumerable<string> fileNames,
        Clusters.ClusterName cluster,
        RetentionPolicy policy,
        DateTimeOffset now,
        IReadOnlySet<string> known,
        IReadOnlyDictionary<string, string> held)
    {
        ArgumentNullException.ThrowIfNull(fileNames);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(known);
        ArgumentNullException.ThrowIfNull(held);
        var named = fileNames
            .Select(f => SnapshotName.TryParse(f, out var name) ? name : (SnapshotName?)null)
            .OfType<SnapshotName>()
            .Where(n => n.Cluster == cluster)
            .Distinct()
            .OrderByDescending(n => n.TakenAt)
            .ThenByDescending(n => n.FileName, StringComparer.Ordinal)
            .ToList();
        var ours = named.Where(n => known.Contains(n.FileName)).ToList();
        var foreign = named.Where(n => !known.Contains(n.FileName)).ToList();

        var reasons = ours.ToDictionary(n => n, _ => new List<string>());
        foreach (var (period, slots) in policy.GfsSlots())
        {
            // ours is newest first, so the first snapshot seen in a period is its representative, and periods come
            // newest first too.
            foreach (var representative in ours.GroupBy(n => PeriodLabel(period, n.TakenAt)).Take(slots))
            {
                reasons[representative.First()].Add(representative.Key);
            }
        }

        var keep = new List<KeptSnapshot>();
        var delete = new List<(SnapshotName, string)>();
        for (var i = 0; i < ours.Count; i++)
        {
            var name = ours[i];
            var outside = OutsideCountWindow(policy, i, name, now);
            var why = new List<string>();
            if (i == 0)
            {
                why.Add(NewestReason);
            }

            if (held.TryGetValue(name.FileName, out var heldBecause))
            {
                why.Add(heldBecause);
            }

            if (outside is null)
            {
                why.Add(CountWindowReason(policy));
            }

            why.AddRange(reasons[name]);
            if (why.Count > 0)
            {
                keep.Add(new KeptSnapshot(name, why));
            }
            else
            {
                delete.Add((name, policy.GfsText is { Length: > 0 } gfs ? $"{outside}; in none of {gfs}" : outside!));
            }
        }

        return new RetentionPlan(keep, delete, foreign);
    }

    /// <summary>
    /// The period <paramref name="at"/> falls in, as the reason it is kept: "hourly 2026-11-30 14h", "daily 2026-11-30",
    /// "weekly 2026-W48" (ISO week and its ISO year), "monthly 2026-11", "yearly 2026". UTC.
    /// </summary>
    public static string PeriodLabel(RetentionPeriod period, DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return period switch
        {
            RetentionPeriod.Hourly => utc.ToString("'hourly 'yyyy-MM-dd HH'h'", CultureInfo.InvariantCulture),
            RetentionPeriod.Daily => utc.ToString("'daily 'yyyy-MM-dd", CultureInfo.InvariantCulture),
            RetentionPeriod.Weekly => string.Create(CultureInfo.InvariantCulture, $"weekly {ISOWeek.GetYear(utc):D4}-W{ISOWeek.GetWeekOfYear(utc):D2}"),
            RetentionPeriod.Monthly => utc.ToString("'monthly 'yyyy-MM", CultureInfo.InvariantCulture),
            RetentionPeriod.Yearly => utc.ToString("'yearly 'yyyy", CultureInfo.InvariantCulture),
            _ => throw new ArgumentOutOfRangeException(nameof(period), period, null),
        };
    }

    /// <summary>Why the <paramref name="index"/>-th newest is outside the count window (today's reasons), or null when inside.</summary>
    private static string? OutsideCountWindow(RetentionPolicy policy, int index, SnapshotName name, DateTimeOffset now) =>
        policy.Count is { } count && index >= count ? $"beyond the newest {count}"
        : policy.MaxAge is { } maxAge && now - name.TakenAt > maxAge ? $"older than {Configuration.DurationText.Format(maxAge)}"
        : null;

    private static string CountWindowReason(RetentionPolicy policy) => (policy.Count, policy.MaxAge) switch
    {
        (null, null) => "no limit",
        ({ } c, null) => $"one of the newest {c}",
        (null, { } a) => $"within {Configuration.DurationText.Format(a)}",
        ({ } c, { } a) => $"one of the newest {c}, within {Configuration.DurationText.Format(a)}",
    };
}
