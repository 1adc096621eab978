using Console.Domain.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Scheduling;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace Console.Web.Tests.Infrastructure.Scheduling;

/// <summary>The real Quartz scheduler with its SQLite job store, inside the real host.</summary>
public sealed class QuartzSchedulingTests
{
    private static Dictionary<string, string?> Clusters(TestEtcdCluster etcd) => new()
    {
        // "fast" fires at the start of every minute: the shortest schedule allowed (interval or cron).
        ["Console:Clusters:0:Name"] = "fast",
        ["Console:Clusters:0:Endpoints:0"] = etcd.Endpoints[0].ToString().TrimEnd('/'),
        ["Console:Clusters:0:Backup:Enabled"] = "true",
        ["Console:Clusters:0:Backup:Cron"] = "* * * * *",
        ["Console:Clusters:0:Backup:Targets:0"] = "local",
        ["Console:Clusters:1:Name"] = "hourly",
        ["Console:Clusters:1:Endpoints:0"] = etcd.Endpoints[0].ToString().TrimEnd('/'),
        ["Console:Clusters:1:Backup:Enabled"] = "true",
        ["Console:Clusters:1:Backup:Interval"] = "1h",
        ["Console:Clusters:1:Backup:Targets:0"] = "local",
    };

    [Fact]
    public async Task A_short_schedule_fires_and_produces_scheduled_records()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var app = ConsoleApp.Start(Clusters(etcd));
        var records = app.Services.GetRequiredService<BackupRecordStore>();

        var page = await Eventually.ValueAsync(
            () => records.QueryAsync(new BackupQuery("fast", BackupStatus.Succeeded, BackupTrigger.Scheduled, Take: 100), CancellationToken.None),
            p => p.Items.Any(r => r.RequestedBy == "scheduler"),
            TimeSpan.FromSeconds(100));

        Assert.Contains(page.Items, r => r.RequestedBy == "scheduler (first backup)");
        Assert.All(page.Items, r => Assert.True(File.Exists(r.Location)));
        var hourly = await records.QueryAsync(new BackupQuery("hourly"), CancellationToken.None);
        Assert.Equal(["scheduler (first backup)"], hourly.Items.Select(r => r.RequestedBy));
    }

    [Fact]
    public async Task After_a_restart_the_schedule_is_still_there_and_a_paused_cluster_is_still_paused()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var data = new TestDirectory("restart");
        DateTimeOffset? hourlyNext;
        await using (var first = ConsoleApp.Start(Clusters(etcd), data.Path))
        {
            var scheduler = first.Services.GetRequiredService<BackupScheduler>();
            hourlyNext = await Eventually.ValueAsync(() => scheduler.NextRunAsync("hourly", CancellationToken.None), n => n is not null, TimeSpan.FromSeconds(30));
            await scheduler.PauseAsync("fast", TestActors.Of("test"), CancellationToken.None);
            Assert.Null(await scheduler.NextRunAsync("fast", CancellationToken.None));
        }

        await using var second = ConsoleApp.Start(Clusters(etcd), data.Path);
        var again = second.Services.GetRequiredService<BackupScheduler>();
        var quartz = await second.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();

        // The stored trigger is reused, not rebuilt: an hourly trigger rebuilt now would fire an hour from now.
        Assert.Equal(hourlyNext, await Eventually.ValueAsync(() => again.NextRunAsync("hourly", CancellationToken.None), n => n is not null, TimeSpan.FromSeconds(30)));
        Assert.Equal(TriggerState.Paused, await quartz.GetTriggerState(BackupTriggers.TriggerKeyFor("fast")));
        Assert.True(second.Services.GetRequiredService<ClusterCatalog>().Find("fast")!.Backup.Paused);
        Assert.Null(await again.NextRunAsync("fast", CancellationToken.None));

        await again.ResumeAsync("fast", TestActors.Of("test"), CancellationToken.None);
        Assert.NotNull(await again.NextRunAsync("fast", CancellationToken.None));
    }

    [Fact]
    public async Task An_invalid_edit_is_refused_with_every_reason_and_changes_nothing()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var app = ConsoleApp.Start(Clusters(etcd));
        var scheduler = app.Services.GetRequiredService<BackupScheduler>();
        var catalog = app.Services.GetRequiredService<ClusterCatalog>();
        var before = await Eventually.ValueAsync(() => scheduler.NextRunAsync("hourly", CancellationToken.None), n => n is not null, TimeSpan.FromSeconds(30));

        var errors = await scheduler.SaveAsync("hourly", new ScheduleEdit("10s", "0 0 * * *", -1, "soon", false), TestActors.Of("test"), CancellationToken.None);

        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.Contains("not both", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("shorter than one minute", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("must not be negative", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'soon' is not a duration", StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromHours(1), catalog.Find("hourly")!.Backup.Interval);
        Assert.Equal(before, await scheduler.NextRunAsync("hourly", CancellationToken.None));

        // The Settings editor holds a cron to the same floor as start-up.
        var tooOften = await scheduler.SaveAsync("hourly", new ScheduleEdit(null, "*/10 * * * * *", 3, null, false), TestActors.Of("test"), CancellationToken.None);

        Assert.Contains(tooOften, e => e.Contains("fires more often than once a minute (every 10s at the shortest)", StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromHours(1), catalog.Find("hourly")!.Backup.Interval);

        var ok = await scheduler.SaveAsync("hourly", new ScheduleEdit("2h", null, 3, "7d", false), TestActors.Of("test"), CancellationToken.None);

        Assert.Empty(ok);
        Assert.Equal(TimeSpan.FromHours(2), catalog.Find("hourly")!.Backup.Interval);
        Assert.Equal(new RetentionPolicy(3, TimeSpan.FromDays(7)), catalog.Find("hourly")!.Backup.Retention);
        var next = await scheduler.NextRunAsync("hourly", CancellationToken.None);
        Assert.InRange(next!.Value, DateTimeOffset.UtcNow.AddMinutes(119), DateTimeOffset.UtcNow.AddMinutes(121));
    }
}
