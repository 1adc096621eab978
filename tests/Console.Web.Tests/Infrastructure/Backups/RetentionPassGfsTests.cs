using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Backups;

/// <summary>
/// The retention pass prunes each target by that target's policy: the cluster keeps the newest 1, its local target 3
/// daily on top. Real SQLite, a real local directory, s3rver; the same snapshots in both targets.
/// </summary>
public sealed class RetentionPassGfsTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Each_target_is_pruned_by_its_own_policy_and_the_note_says_why()
    {
        await using var s3 = await S3rver.StartAsync();
        var spec = new ClusterSpec(ClusterName.Parse("test"), [new Uri("http://127.0.0.1:1")], null, null, [])
        {
            Backup = BackupPolicy.Default with
            {
                Targets = ["local", "s3"],
                Retention = new RetentionPolicy(1, null),
                TargetRetention = new Dictionary<string, RetentionOverride> { ["local"] = new(Daily: 3) },
            },
        };
        using var harness = new BackupHarness(spec, s3: s3);

        // Hours before Start (2026-11-21 12:00): 11-18 11:00, 11-19 11:00, 11-20 11:00, 11-21 10:00, 11-21 11:00.
        var byHoursAgo = new Dictionary<int, string>();
        foreach (var hoursAgo in new[] { 73, 49, 25, 2, 1 })
        {
            byHoursAgo[hoursAgo] = (await RetentionPassTests.SnapshotAsync(harness, hoursAgo, 10, "local", "s3")).FileName!;
        }

        var note = await RetentionPassTests.Pass(harness, new ManualClock(Start)).RunAsync(harness.Cluster, byHoursAgo[1]);

        Assert.Contains($"local retention (keep newest 1; 3 daily): deleted {byHoursAgo[2]} (beyond the newest 1; in none of 3 daily), {byHoursAgo[73]} (beyond the newest 1; in none of 3 daily); 3 kept", note, StringComparison.Ordinal);
        Assert.Contains($"s3 retention (keep newest 1): deleted {byHoursAgo[2]} (beyond the newest 1), {byHoursAgo[25]} (beyond the newest 1), {byHoursAgo[49]} (beyond the newest 1), {byHoursAgo[73]} (beyond the newest 1); 1 kept", note, StringComparison.Ordinal);
        Assert.Equal(
            [byHoursAgo[49], byHoursAgo[25], byHoursAgo[1]],
            (await harness.Store.ListAsync(spec.Name, withManifests: false, CancellationToken.None)).Select(s => s.Name.FileName).Order(StringComparer.Ordinal));
        Assert.Equal([byHoursAgo[1]], (await harness.S3!.ListAsync(spec.Name, withManifests: false, CancellationToken.None)).Select(s => s.Name.FileName));
    }
}
