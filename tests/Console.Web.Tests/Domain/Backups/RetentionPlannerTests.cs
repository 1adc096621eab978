using Console.Domain.Backups;
using Console.Domain.Clusters;

namespace Console.Web.Tests.Domain.Backups;

public sealed class RetentionPlannerTests
{
    private static readonly ClusterName Prod = ClusterName.Parse("prod");
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A snapshot of prod taken <paramref name="hoursAgo"/> hours before now.</summary>
    private static string Snap(int hoursAgo, string cluster = "prod") => SnapshotName.For(ClusterName.Parse(cluster), Now.AddHours(-hoursAgo)).FileName;

    public static TheoryData<string, string[], int?, int?, int[], int[]> Cases => new()
    {
        // name, files (by hours ago), count, max age hours, expected kept (hours ago), look-alikes without a manifest
        // (hours ago; negative is in the future), which are never counted, kept or deleted
        { "count keeps the newest N", [Snap(1), Snap(2), Snap(3), Snap(4)], 2, null, [1, 2], [] },
        { "count larger than what exists keeps all", [Snap(1), Snap(2)], 5, null, [1, 2], [] },
        { "age drops what is older", [Snap(1), Snap(10), Snap(30), Snap(50)], null, 24, [1, 10], [] },
        { "count and age both apply", [Snap(1), Snap(2), Snap(3), Snap(40)], 3, 24, [1, 2, 3], [] },
        { "age is stricter than count", [Snap(1), Snap(30), Snap(31)], 3, 24, [1], [] },
        { "count is stricter than age", [Snap(1), Snap(2), Snap(3)], 1, 24, [1], [] },
        { "the newest is kept even when too old", [Snap(100), Snap(200)], null, 24, [100], [] },
        { "the newest is kept even with count 0", [Snap(5), Snap(6)], 0, null, [5], [] },
        { "no policy keeps everything", [Snap(1), Snap(1000)], null, null, [1, 1000], [] },
        { "nothing to plan", [], 3, 24, [], [] },
        { "unordered input is sorted by time", [Snap(3), Snap(1), Snap(2)], 2, null, [1, 2], [] },
        { "future-dated look-alikes do not push real snapshots out", [Snap(1), Snap(2), Snap(3)], 2, null, [1, 2], [-700000, -700001, -700002] },
        { "an old look-alike is not deleted by age", [Snap(1), Snap(2)], null, 24, [1, 2], [100] },
        { "only look-alikes: nothing is kept or deleted", [], 1, 24, [], [-5, 50] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Plans_by_count_and_age_with_the_newest_as_a_floor(string rule, string[] files, int? count, int? maxAgeHours, int[] keptHoursAgo, int[] lookAlikesHoursAgo)
    {
        var lookAlikes = lookAlikesHoursAgo.Select(h => Snap(h)).ToArray();

        var plan = RetentionPlanner.Plan([.. files, .. lookAlikes], Prod, new RetentionPolicy(count, maxAgeHours is { } h ? TimeSpan.FromHours(h) : null), Now, Known(files));

        Assert.True(
            keptHoursAgo.Select(h => Snap(h)).SequenceEqual(plan.Keep.Select(k => k.FileName)),
            $"{rule}: kept {string.Join(", ", plan.Keep)}");
        Assert.Equal(files.Length - keptHoursAgo.Length, plan.Delete.Count);
        Assert.Equal(lookAlikes.Order(StringComparer.Ordinal), plan.Foreign.Select(f => f.FileName).Order(StringComparer.Ordinal));
    }

    /// <summary>The names the console vouches for (a manifest of ours beside them, or a ledger entry).</summary>
    private static HashSet<string> Known(params string[] files) => new(files, StringComparer.Ordinal);

    [Fact]
    public void Foreign_files_and_other_clusters_are_never_planned_for_deletion()
    {
        string[] files = [Snap(1), Snap(2), Snap(3), Snap(3, "staging"), "prod_backup.db", "prod_20200101T000000.000Z.db.part", "README", "prod_20200101T000000.000Z.db.json", "Prod_20200101T000000.000Z.db"];

        var plan = RetentionPlanner.Plan(files, Prod, new RetentionPolicy(1, null), Now, Known(files));

        Assert.Equal([Snap(2), Snap(3)], plan.Delete.Select(d => d.Name.FileName));
        Assert.All(plan.Delete, d => Assert.Equal("beyond the newest 1", d.Reason));
        Assert.Equal([Snap(1)], plan.Keep.Select(k => k.FileName));
    }

    [Fact]
    public void Protected_snapshots_are_kept_whatever_the_policy()
    {
        string[] files = [Snap(1), Snap(2), Snap(3)];

        var plan = RetentionPlanner.Plan(files, Prod, new RetentionPolicy(1, null), Now, Known(files), new HashSet<string> { Snap(3) });

        Assert.Equal([Snap(2)], plan.Delete.Select(d => d.Name.FileName));
    }

    [Fact]
    public void Age_reasons_name_the_limit()
    {
        var plan = RetentionPlanner.Plan([Snap(1), Snap(200)], Prod, new RetentionPolicy(null, TimeSpan.FromDays(7)), Now, Known(Snap(1), Snap(200)));

        Assert.Equal("older than 1w", Assert.Single(plan.Delete).Reason);
    }
}
