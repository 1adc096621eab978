using Console.Domain.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Scheduling;
using Console.Web.Tests.Fixtures;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Scheduling;

/// <summary>Hangfire with its SQLite job storage, inside the real host, backing up a real etcd.</summary>
public sealed class HangfireSchedulingTests
{
    private static Dictionary<string, string?> Clusters(TestEtcdCluster etcd, string hourlyInterval = "1h") => new()
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
        ["Console:Clusters:1:Backup:Interval"] = hourlyInterval,
        ["Console:Clusters:1:Backup:Targets:0"] = "local",
    };

    private static Task<BackupPage> ScheduledAsync(ConsoleApp app, string cluster) =>
        app.Services.GetRequiredService<BackupRecordStore>().QueryAsync(new BackupQuery(cluster, Trigger: BackupTrigger.Scheduled, Take: 100), CancellationToken.None);

    /// <summary>When the schedule's tick last ran, as Hangfire recorded it.</summary>
    private static DateTime? LastTick(ConsoleApp app)
    {
        using var connection = app.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetRecurringJobs([BackupScheduler.TickJobId]).SingleOrDefault()?.LastExecution;
    }

    /// <summary>Waits until the tick has run twice after <paramref name="after"/>: whatever was due then has been queued.</summary>
    private static async Task TwoTicksAfterAsync(ConsoleApp app, DateTimeOffset after)
    {
        var first = await Eventually.ValueAsync(() => Task.FromResult(LastTick(app)), t => t > after.UtcDateTime, TimeSpan.FromSeconds(90));
        await Eventually.ValueAsync(() => Task.FromResult(LastTick(app)), t => t > first, TimeSpan.FromSeconds(90));
    }

    [Fact]
    public async Task A_short_schedule_fires_against_real_etcd_with_sqlite_storage()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var app = ConsoleApp.Start(Clusters(etcd));
        var records = app.Services.GetRequiredService<BackupRecordStore>();

        var page = await Eventually.ValueAsync(
            () => records.QueryAsync(new BackupQuery("fast", BackupStatus.Succeeded, BackupTrigger.Scheduled, Take: 100), CancellationToken.None),
            p => p.Items.Any(r => r.RequestedBy == ScheduledBackupJob.RequestedBy),
            TimeSpan.FromSeconds(120));

        Assert.True(File.Exists(Path.Combine(app.DataDir, HangfireSetup.SqliteFileName)));
        Assert.Contains(page.Items, r => r.RequestedBy == ScheduledBackupJob.FirstBackupRequestedBy);
        Assert.All(page.Items, r => Assert.True(File.Exists(r.Location)));

        // A cron occurrence starts at its minute, not up to a poll interval later.
        var scheduled = page.Items.First(r => r.RequestedBy == ScheduledBackupJob.RequestedBy);
        Assert.InRange(scheduled.StartedAt.Second, 0, 20);
        var hourly = await records.QueryAsync(new BackupQuery("hourly"), CancellationToken.None);
        Assert.Equal([ScheduledBackupJob.FirstBackupRequestedBy], hourly.Items.Select(r => r.RequestedBy));
    }

    [Fact]
    public async Task After_a_restart_a_run_missed_while_the_console_was_down_fires_once()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var data = new TestDirectory("missed");
        await using (var first = ConsoleApp.Start(Clusters(etcd), data.Path))
        {
            await first.WaitForFirstBackupAsync("hourly");
        }

        // The console was down for three hours: the runs due 2 h, 1 h and 0 h ago were all missed.
        var before = DateTimeOffset.UtcNow;
        using (var storage = new Hangfire.Storage.SQLite.SQLiteStorage(Path.Combine(data.Path, HangfireSetup.SqliteFileName), new Hangfire.Storage.SQLite.SQLiteStorageOptions()))
        using (var states = new ScheduleStateStore(storage, sharedStore: false))
        {
            await states.ChangeAsync(
                access =>
                {
                    var state = access.Read("hourly")!;
                    access.Write("hourly", state with { Since = before.AddHours(-4), LastOccurrence = before.AddHours(-3) });
                    return true;
                },
                CancellationToken.None);
        }

        await using var second = ConsoleApp.Start(Clusters(etcd), data.Path);
        var caughtUp = await Eventually.ValueAsync(() => ScheduledAsync(second, "hourly"), p => p.Items.Any(r => r.RequestedBy == ScheduledBackupJob.RequestedBy && r.Status != BackupStatus.Running), TimeSpan.FromSeconds(90));
        await TwoTicksAfterAsync(second, caughtUp.Items.Max(r => r.StartedAt));

        var after = await ScheduledAsync(second, "hourly");
        Assert.Single(after.Items, r => r.RequestedBy == ScheduledBackupJob.RequestedBy);
        Assert.Equal(BackupStatus.Succeeded, after.Items.Single(r => r.RequestedBy == ScheduledBackupJob.RequestedBy).Status);

        // The rhythm restarts from the catch-up run: the next one is an hour later, not at once.
        var next = await second.Services.GetRequiredService<BackupScheduler>().NextRunAsync("hourly", CancellationToken.None);
        Assert.InRange(next!.Value, before.AddMinutes(59), DateTimeOffset.UtcNow.AddMinutes(61));
    }

    [Fact]
    public async Task After_a_restart_the_schedule_keeps_its_place_and_a_paused_cluster_stays_paused()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var data = new TestDirectory("restart");
        DateTimeOffset? hourlyNext;
        await using (var first = ConsoleApp.Start(Clusters(etcd), data.Path))
        {
            var scheduler = first.Services.GetRequiredService<BackupScheduler>();

            // The first backups exist once the tick that queued them has stored where each schedule stands.
            await first.WaitForFirstBackupAsync("fast");
            await first.WaitForFirstBackupAsync("hourly");
            hourlyNext = await scheduler.NextRunAsync("hourly", CancellationToken.None);
            await scheduler.PauseAsync("fast", TestActors.Of("test"), CancellationToken.None);
            Assert.Null(await scheduler.NextRunAsync("fast", CancellationToken.None));
        }

        var restartedAt = DateTimeOffset.UtcNow;
        await using var second = ConsoleApp.Start(Clusters(etcd), data.Path);
        var again = second.Services.GetRequiredService<BackupScheduler>();

        // The stored schedule is reused, not rebuilt: an hourly schedule rebuilt now would fire an hour from now.
        Assert.Equal(hourlyNext, await Eventually.ValueAsync(() => again.NextRunAsync("hourly", CancellationToken.None), n => n is not null, TimeSpan.FromSeconds(30)));
        Assert.True(second.Services.GetRequiredService<ClusterCatalog>().Find("fast")!.Backup.Paused);
        Assert.Null(await again.NextRunAsync("fast", CancellationToken.None));

        // A whole minute slot passes while paused: nothing runs.
        var nextMinute = new DateTimeOffset(restartedAt.Year, restartedAt.Month, restartedAt.Day, restartedAt.Hour, restartedAt.Minute, 0, TimeSpan.Zero).AddMinutes(1);
        await TwoTicksAfterAsync(second, nextMinute);
        Assert.DoesNotContain((await ScheduledAsync(second, "fast")).Items, r => r.StartedAt >= restartedAt);

        // Resumed, the slots missed while paused are caught up once, at once.
        await again.ResumeAsync("fast", TestActors.Of("test"), CancellationToken.None);
        Assert.NotNull(await again.NextRunAsync("fast", CancellationToken.None));
        await Eventually.ValueAsync(() => ScheduledAsync(second, "fast"), p => p.Items.Any(r => r.StartedAt >= restartedAt), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task An_occurrence_delivered_twice_runs_once_and_a_failed_backup_is_not_retried()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        var settings = Clusters(etcd);
        settings["Console:Clusters:2:Name"] = "dead";
        settings["Console:Clusters:2:Endpoints:0"] = $"http://127.0.0.1:{Console.Infrastructure.Sandbox.FreePorts.Pick(1)[0]}";
        settings["Console:Clusters:2:Backup:Enabled"] = "true";
        settings["Console:Clusters:2:Backup:Interval"] = "1h";
        settings["Console:Clusters:2:Backup:Targets:0"] = "local";
        await using var app = ConsoleApp.Start(settings);
        await app.WaitForFirstBackupAsync("hourly");
        var jobs = app.Services.GetRequiredService<IBackgroundJobClient>();

        // Two workers (or a re-queue after the invisibility timeout) deliver the same occurrence: one backup.
        var occurrence = DateTimeOffset.UtcNow;
        var ids = new[]
        {
            jobs.Enqueue<ScheduledBackupJob>(j => j.RunAsync("hourly", occurrence, false, CancellationToken.None)),
            jobs.Enqueue<ScheduledBackupJob>(j => j.RunAsync("hourly", occurrence, false, CancellationToken.None)),
        };
        using (var connection = app.Services.GetRequiredService<JobStorage>().GetConnection())
        {
            await Eventually.ValueAsync(() => Task.FromResult(ids.Select(id => connection.GetStateData(id)?.Name).ToList()), s => s.All(n => n == "Succeeded"), TimeSpan.FromSeconds(60));
        }

        Assert.Single((await ScheduledAsync(app, "hourly")).Items, r => r.RequestedBy == ScheduledBackupJob.RequestedBy);

        // The dead cluster's first backup fails: one failed record, one failed Hangfire job, and no retry after it.
        var failed = await Eventually.ValueAsync(() => ScheduledAsync(app, "dead"), p => p.Items.Any(r => r.Status == BackupStatus.Failed), TimeSpan.FromSeconds(90));
        await TwoTicksAfterAsync(app, failed.Items.Max(r => r.StartedAt));
        Assert.Single((await ScheduledAsync(app, "dead")).Items);
        var monitoring = app.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        Assert.Equal(1, monitoring.FailedCount());
        Assert.Equal(0, monitoring.ScheduledCount());
    }

    [Fact]
    public async Task An_invalid_edit_is_refused_with_every_reason_and_changes_nothing()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var app = ConsoleApp.Start(Clusters(etcd));
        var scheduler = app.Services.GetRequiredService<BackupScheduler>();
        var catalog = app.Services.GetRequiredService<ClusterCatalog>();

        // The first backup at start moves the next run when its claim is released: read it once that is over.
        await Eventually.ValueAsync(() => ScheduledAsync(app, "hourly"), p => p.Items.Any(r => r.Status != BackupStatus.Running), TimeSpan.FromSeconds(90));
        (DateTimeOffset? Next, DateTimeOffset Since) seen = (null, DateTimeOffset.UtcNow);
        var before = await Eventually.ValueAsync(
            async () =>
            {
                var next = await scheduler.NextRunAsync("hourly", CancellationToken.None);
                seen = next == seen.Next ? seen : (next, DateTimeOffset.UtcNow);
                return next is not null && DateTimeOffset.UtcNow - seen.Since >= TimeSpan.FromSeconds(1) ? next : null; // the same for a second
            },
            n => n is not null,
            TimeSpan.FromSeconds(30));

        var errors = await scheduler.SaveAsync("hourly", new ScheduleEdit("10s", "0 0 * * *", -1, "soon", false), TestActors.Of("test"), CancellationToken.None);

        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.Field == ScheduleField.Schedule && e.Message.Contains("not both", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Field == ScheduleField.Interval && e.Message.Contains("shorter than one minute", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Field == ScheduleField.RetentionCount && e.Message.Contains("must not be negative", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Field == ScheduleField.RetentionMaxAge && e.Message.Contains("'soon' is not a duration", StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromHours(1), catalog.Find("hourly")!.Backup.Interval);
        Assert.Equal(before, await scheduler.NextRunAsync("hourly", CancellationToken.None));

        // The Settings editor holds a cron to the same floor as start-up.
        var tooOften = await scheduler.SaveAsync("hourly", new ScheduleEdit(null, "*/10 * * * * *", 3, null, false), TestActors.Of("test"), CancellationToken.None);

        Assert.Contains(tooOften, e => e.Field == ScheduleField.Cron && e.Message.Contains("fires more often than once a minute (every 10s at the shortest)", StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromHours(1), catalog.Find("hourly")!.Backup.Interval);

        // A valid edit applies at once: the next run moves without a restart or a tick.
        var ok = await scheduler.SaveAsync("hourly", new ScheduleEdit("2h", null, 3, "7d", false), TestActors.Of("test"), CancellationToken.None);

        Assert.Empty(ok);
        Assert.Equal(TimeSpan.FromHours(2), catalog.Find("hourly")!.Backup.Interval);
        Assert.Equal(new RetentionPolicy(3, TimeSpan.FromDays(7)), catalog.Find("hourly")!.Backup.Retention);
        var next = await scheduler.NextRunAsync("hourly", CancellationToken.None);
        Assert.InRange(next!.Value, DateTimeOffset.UtcNow.AddMinutes(119), DateTimeOffset.UtcNow.AddMinutes(121));
    }
}
