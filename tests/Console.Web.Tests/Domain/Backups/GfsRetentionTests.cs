using System.Globalization;
using Console.Domain.Backups;
using Console.Domain.Clusters;

namespace Console.Web.Tests.Domain.Backups;

/// <summary>
/// GFS retention: years of synthetic snapshots planned and checked against an independent, obvious computation (group
/// each period by its start, take the newest of the newest N groups), and small tables with the exact reasons.
/// </summary>
public sealed class GfsRetentionTests
{
    private static readonly ClusterName Prod = ClusterName.Parse("prod");

    private static DateTimeOffset At(string utc) => DateTimeOffset.Parse(utc, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static string Snap(DateTimeOffset at) => SnapshotName.For(Prod, at).FileName;

    private static HashSet<string> Known(IEnumerable<string> files) => new(files, StringComparer.Ordinal);

    // 2026-12-31 and 2027-01-01..03 are ISO 2026-W53; 2025-12-29 is already 2026-W01.
    private static readonly string[] AcrossNewYear = ["2025-12-28T23:59:59Z", "2025-12-29T00:00:00Z", "2026-01-04T12:00:00Z", "2026-12-27T08:00:00Z", "2026-12-31T23:00:00Z", "2027-01-01T00:30:00Z", "2027-01-03T23:59:59Z", "2027-01-04T00:00:00Z"];

    private static readonly string[] LeapDays = ["2024-02-28T23:59:59.999Z", "2024-02-29T00:00:00Z", "2024-02-29T23:00:00Z", "2024-03-01T00:00:00Z", "2028-02-29T12:00:00Z", "2028-03-01T00:00:00.001Z", "2023-12-31T23:59:59Z", "2024-01-01T00:00:00Z"];

    /// <summary>Synthetic histories, by name: each a list of times a snapshot was taken (UTC).</summary>
    private static DateTimeOffset[] History(string name)
    {
        var start = At("2024-01-01T00:00:00Z");
        switch (name)
        {
            case "every hour for 3 years":
                return [.. Enumerable.Range(0, 3 * 366 * 24).Select(h => start.AddHours(h))];
            case "two per hour for 100 days":
                return [.. Enumerable.Range(0, 100 * 24).SelectMany(h => new[] { start.AddHours(h).AddMinutes(10), start.AddHours(h).AddMinutes(50) })];
            case "irregular gaps over 3 years":
                {
                    // Gaps from a minute to four days, seeded: days, weeks and months with none, hours with several.
                    var random = new Random(15);
                    var times = new List<DateTimeOffset>();
                    for (var t = start; t < start.AddYears(3); t = t.AddMinutes(1 + random.Next(4 * 24 * 60) * Math.Pow(random.NextDouble(), 3)))
                    {
                        times.Add(t);
                    }

                    return [.. times];
                }

            case "a week 53 and a week 1 across new year":
                return [.. AcrossNewYear.Select(At)];
            case "leap days and midnight boundaries":
                return [.. LeapDays.Select(At)];
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, null);
        }
    }

    public static TheoryData<string, int?, int?, int, int, int, int, int> Histories => new()
    {
        // history, count, max age (days), hourly, daily, weekly, monthly, yearly
        { "every hour for 3 years", 7, null, 24, 7, 4, 12, 3 },
        { "every hour for 3 years", 0, null, 0, 0, 0, 0, 10 },
        { "every hour for 3 years", 50, 1, 48, 30, 10, 40, 0 },
        { "two per hour for 100 days", 3, null, 30, 10, 6, 2, 1 },
        { "irregular gaps over 3 years", 5, null, 24, 7, 4, 12, 2 },
        { "irregular gaps over 3 years", 0, null, 100, 100, 100, 100, 100 },
        { "irregular gaps over 3 years", 20, 2, 0, 14, 0, 6, 0 },
        { "a week 53 and a week 1 across new year", 0, null, 0, 0, 4, 0, 0 },
        { "a week 53 and a week 1 across new year", 1, null, 0, 3, 2, 1, 3 },
        { "leap days and midnight boundaries", 0, null, 3, 4, 2, 3, 4 },
    };

    [Theory]
    [MemberData(nameof(Histories))]
    public void Keeps_exactly_the_newest_of_each_of_the_newest_periods_plus_the_count_window(string history, int? count, int? maxAgeDays, int hourly, int daily, int weekly, int monthly, int yearly)
    {
        // Names keep milliseconds: the times are what the names say.
        var times = History(history).Select(t => SnapshotName.For(Prod, t).TakenAt).Distinct().ToArray();
        var files = times.Select(Snap).ToArray();
        var now = times.Max().AddHours(1);
        var policy = new RetentionPolicy(count, maxAgeDays is { } d ? TimeSpan.FromDays(d) : null, hourly, daily, weekly, monthly, yearly);

        var plan = RetentionPlanner.Plan(files.Reverse(), Prod, policy, now, Known(files));

        // The obvious way: for each period, the start of the period each snapshot falls in; the newest N starts; the
        // latest snapshot in each. Weeks start on the Monday on or before the day (ISO weeks).
        var expected = new HashSet<DateTimeOffset>(NewestOfPeriods(times, hourly, t => new DateTime(t.Year, t.Month, t.Day, t.Hour, 0, 0))
            .Concat(NewestOfPeriods(times, daily, t => t.Date))
            .Concat(NewestOfPeriods(times, weekly, t => t.Date.AddDays(-(((int)t.DayOfWeek + 6) % 7))))
            .Concat(NewestOfPeriods(times, monthly, t => new DateTime(t.Year, t.Month, 1)))
            .Concat(NewestOfPeriods(times, yearly, t => new DateTime(t.Year, 1, 1)))
            .Concat(times.OrderByDescending(t => t).Take(count ?? int.MaxValue).Where(t => maxAgeDays is not { } d || now - t <= TimeSpan.FromDays(d)))
            .Append(times.Max()));
        var kept = plan.Keep.Select(k => k.Name.TakenAt).ToHashSet();
        Assert.True(expected.SetEquals(kept), $"{history}: expected {expected.Count} kept, planned {kept.Count}; missing {string.Join(", ", expected.Except(kept).Take(5))}; extra {string.Join(", ", kept.Except(expected).Take(5))}");
        Assert.Equal(times.Length, plan.Keep.Count + plan.Delete.Count);
        Assert.All(plan.Keep, k => Assert.NotEmpty(k.Reasons));

        // Planning again over what is left deletes nothing: a second prune right after the first is a no-op.
        var left = plan.Keep.Select(k => k.FileName).ToArray();
        var again = RetentionPlanner.Plan(left, Prod, policy, now, Known(left));
        Assert.Empty(again.Delete);
        Assert.Equal(left, again.Keep.Select(k => k.FileName));
    }

    private static IEnumerable<DateTimeOffset> NewestOfPeriods(DateTimeOffset[] times, int slots, Func<DateTime, DateTime> periodStart) =>
        times.GroupBy(t => periodStart(t.UtcDateTime)).OrderByDescending(g => g.Key).Take(slots).Select(g => g.Max());

    public static TheoryData<RetentionPeriod, string, string> Labels => new()
    {
        { RetentionPeriod.Hourly, "2026-11-30T14:59:59.999Z", "hourly 2026-11-30 14h" },
        { RetentionPeriod.Hourly, "2026-11-30T00:00:00Z", "hourly 2026-11-30 00h" },
        { RetentionPeriod.Daily, "2024-02-29T23:59:59Z", "daily 2024-02-29" },
        { RetentionPeriod.Weekly, "2026-11-29T23:59:59Z", "weekly 2026-W48" },
        { RetentionPeriod.Weekly, "2026-11-30T00:00:00Z", "weekly 2026-W49" },
        { RetentionPeriod.Weekly, "2026-12-31T12:00:00Z", "weekly 2026-W53" },
        { RetentionPeriod.Weekly, "2027-01-03T12:00:00Z", "weekly 2026-W53" },
        { RetentionPeriod.Weekly, "2027-01-04T00:00:00Z", "weekly 2027-W01" },
        { RetentionPeriod.Weekly, "2025-12-29T00:00:00Z", "weekly 2026-W01" },
        { RetentionPeriod.Monthly, "2026-11-30T23:00:00Z", "monthly 2026-11" },
        { RetentionPeriod.Yearly, "2026-12-31T23:59:59Z", "yearly 2026" },
    };

    [Theory]
    [MemberData(nameof(Labels))]
    public void Periods_are_utc_and_weeks_are_iso_weeks(RetentionPeriod period, string at, string label)
    {
        Assert.Equal(label, RetentionPlanner.PeriodLabel(period, At(at)));
    }

    /// <summary>
    /// Small plans with every reason spelled out. Times in a row: kept ones with their reasons joined by " · ", deleted
    /// ones with "delete: " and their reason.
    /// </summary>
    public static TheoryData<string, RetentionPolicy, string, string[], string[]> ExactPlans => new()
    {
        {
            "count, daily and weekly: a snapshot fills several slots", new RetentionPolicy(1, null, Daily: 2, Weekly: 2), "2026-11-30T15:00:00Z", [],
            [
                "2026-11-30T14:00:00Z newest · one of the newest 1 · daily 2026-11-30 · weekly 2026-W49",
                "2026-11-30T09:00:00Z delete: beyond the newest 1; in none of 2 daily, 2 weekly",
                "2026-11-29T23:00:00Z daily 2026-11-29 · weekly 2026-W48",
                "2026-11-29T01:00:00Z delete: beyond the newest 1; in none of 2 daily, 2 weekly",
                "2026-11-22T12:00:00Z delete: beyond the newest 1; in none of 2 daily, 2 weekly",
            ]
        },
        {
            "pure GFS with a protected copy", new RetentionPolicy(0, null, Hourly: 2, Monthly: 2, Yearly: 1), "2026-11-30T15:00:00Z", ["2025-06-01T00:00:00Z"],
            [
                "2026-11-30T14:30:00Z newest · hourly 2026-11-30 14h · monthly 2026-11 · yearly 2026",
                "2026-11-30T14:10:00Z delete: beyond the newest 0; in none of 2 hourly, 2 monthly, 1 yearly",
                "2026-11-30T12:00:00Z hourly 2026-11-30 12h",
                "2026-10-15T08:00:00Z monthly 2026-10",
                "2025-06-01T00:00:00Z protected",
                "2025-05-01T00:00:00Z delete: beyond the newest 0; in none of 2 hourly, 2 monthly, 1 yearly",
            ]
        },
        {
            "max age bounds only the count window", new RetentionPolicy(4, TimeSpan.FromDays(2), Daily: 3), "2026-11-30T12:00:00Z", [],
            [
                "2026-11-30T11:00:00Z newest · one of the newest 4, within 2d · daily 2026-11-30",
                "2026-11-27T12:00:00Z daily 2026-11-27",
                "2026-11-20T12:00:00Z daily 2026-11-20",
                "2026-11-20T11:00:00Z delete: older than 2d; in none of 3 daily",
            ]
        },
        {
            "no GFS slot: reasons as before", new RetentionPolicy(2, null), "2026-11-30T12:00:00Z", [],
            [
                "2026-11-30T11:00:00Z newest · one of the newest 2",
                "2026-11-30T10:00:00Z one of the newest 2",
                "2026-11-30T09:00:00Z delete: beyond the newest 2",
            ]
        },
        {
            "no count window limit keeps everything", new RetentionPolicy(null, null, Daily: 1), "2026-11-30T12:00:00Z", [],
            [
                "2026-11-30T11:00:00Z newest · no limit · daily 2026-11-30",
                "2026-11-29T10:00:00Z no limit",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(ExactPlans))]
    public void Every_copy_says_why_it_is_kept_or_deleted(string rule, RetentionPolicy policy, string now, string[] protectedAt, string[] rows)
    {
        var files = rows.Select(r => Snap(At(r[..r.IndexOf(' ', StringComparison.Ordinal)]))).ToArray();

        var plan = RetentionPlanner.Plan(files, Prod, policy, At(now), Known(files), protectedAt.Select(p => Snap(At(p))).ToHashSet(StringComparer.Ordinal));

        var actual = plan.Keep.Select(k => (k.Name.TakenAt, Text: string.Join(" · ", k.Reasons)))
            .Concat(plan.Delete.Select(d => (d.Name.TakenAt, Text: $"delete: {d.Reason}")))
            .OrderByDescending(x => x.TakenAt)
            .Select(x => $"{x.TakenAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} {x.Text}");
        Assert.True(rows.SequenceEqual(actual), $"{rule}:\n{string.Join("\n", actual)}");
    }

    [Fact]
    public void Look_alikes_fill_no_period_and_held_copies_say_why()
    {
        var real = new[] { Snap(At("2026-11-30T10:00:00Z")), Snap(At("2026-11-29T10:00:00Z")), Snap(At("2026-11-28T10:00:00Z")) };
        var lookAlikes = new[] { Snap(At("2099-01-01T00:00:00Z")), Snap(At("2099-01-02T00:00:00Z")) };
        var held = new Dictionary<string, string>(StringComparer.Ordinal) { [real[2]] = "local upload pending" };

        var plan = RetentionPlanner.Plan([.. real, .. lookAlikes], Prod, new RetentionPolicy(0, null, Daily: 1), At("2026-11-30T12:00:00Z"), Known(real), held);

        Assert.Equal(["newest", "daily 2026-11-30"], plan.Keep[0].Reasons);
        Assert.Equal(["local upload pending"], plan.Keep[1].Reasons);
        Assert.Equal(real[1], Assert.Single(plan.Delete).Name.FileName);
        Assert.Equal(lookAlikes.Order(StringComparer.Ordinal), plan.Foreign.Select(f => f.FileName).Order(StringComparer.Ordinal));
    }

    public static TheoryData<RetentionPolicy, string> Texts => new()
    {
        { new RetentionPolicy(7, null, 24, 7, 4, 12, 0), "keep newest 7; 24 hourly, 7 daily, 4 weekly, 12 monthly" },
        { new RetentionPolicy(7, TimeSpan.FromDays(30), Yearly: 2), "keep newest 7, at most 30d old; 2 yearly" },
        { new RetentionPolicy(0, null, Daily: 7, Monthly: 12), "keep 7 daily, 12 monthly" },
        { new RetentionPolicy(7, null), "keep newest 7" },
        { new RetentionPolicy(null, null, Daily: 7), "keep everything" },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void The_policy_reads_as_a_sentence(RetentionPolicy policy, string text)
    {
        Assert.Equal(text, policy.ToString());
    }

    [Fact]
    public void A_target_override_changes_only_what_it_sets()
    {
        var cluster = new RetentionPolicy(7, TimeSpan.FromDays(30), Hourly: 24, Daily: 7);
        var backup = BackupPolicy.Default with
        {
            Retention = cluster,
            TargetRetention = new Dictionary<string, RetentionOverride> { ["s3"] = new(Count: 2, Daily: 0, Monthly: 12) },
        };

        Assert.Equal(cluster, backup.RetentionFor("local"));
        Assert.Equal(new RetentionPolicy(2, TimeSpan.FromDays(30), 24, 0, null, 12, null), backup.RetentionFor("s3"));
    }
}
