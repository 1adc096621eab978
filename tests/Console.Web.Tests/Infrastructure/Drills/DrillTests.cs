using System.Net.Http.Headers;
using Amazon.S3.Model;
using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Drills;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Metrics;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Sandbox;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Api;
using Console.Web.Tests.Fixtures;
using Console.Web.Tests.Infrastructure.Continuous;
using Console.Web.Tests.Infrastructure.Sealing;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Drills;

/// <summary>
/// Restore drills against real components: an etcd cluster backed up by two configured clusters (one zstd+age to the
/// local store and s3rver, one raw to the local store), the throwaway etcd the drill starts, and the console's database.
/// </summary>
public sealed class DrillTests
{
    private static readonly TimeSpan DrillWait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Copies_of_every_format_and_target_pass_their_drills_and_altered_or_cancelled_ones_fail_leaving_nothing_behind()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        using var keys = await AgeKeys.CreateAsync();
        var settings = TestTokens.Settings().Concat(s3.ConfigurationKeys()).ToDictionary();
        settings["Console:Encryption:IdentityFiles:0"] = keys.IdentityFile;
        foreach (var (index, name) in new[] { (0, "sealed"), (1, "raw") })
        {
            settings[$"Console:Clusters:{index}:Name"] = name;
            settings[$"Console:Clusters:{index}:Endpoints:0"] = etcd.Endpoints[0].ToString().TrimEnd('/');
            settings[$"Console:Clusters:{index}:Backup:Drill:Enabled"] = "true";
        }

        settings["Console:Clusters:0:Backup:Targets:0"] = "local";
        settings["Console:Clusters:0:Backup:Targets:1"] = "s3";
        settings["Console:Clusters:0:Backup:Compression:Codec"] = "zstd";
        settings["Console:Clusters:0:Backup:Encryption:Recipients:0"] = keys.Recipient;
        settings["Console:Clusters:1:Backup:Drill:Every"] = "2";
        await using var app = ConsoleApp.Start(settings);
        var runner = app.Services.GetRequiredService<BackupRunner>();
        var ledger = app.Services.GetRequiredService<DrillLedger>();
        var drills = app.Services.GetRequiredService<DrillService>();
        var client = new EtcdClusterClient(etcd.Spec(), TimeSpan.FromSeconds(5));
        using var disposeClient = client;
        for (var i = 0; i < 5; i++)
        {
            await client.PutAsync(etcd.Endpoints[0], $"/app/{i}", "value", CancellationToken.None);
        }

        // Sealed (zstd+age) in local and s3: both copies are drilled after the backup, and pass.
        var sealedBackup = await BackupAsync(runner, "sealed");
        Assert.EndsWith(".db.zst.age", sealedBackup.FileName, StringComparison.Ordinal);
        Assert.Equal(sealedBackup.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), await client.GetAsync(etcd.Endpoints[0], Canary.KeyOf("sealed"), CancellationToken.None));
        var sealedVerdicts = await FinishedAsync(ledger, "sealed", sealedBackup.FileName!, ["local", "s3"]);
        foreach (var verdict in sealedVerdicts)
        {
            Assert.True(verdict.Outcome == DrillOutcome.Passed, $"{verdict.Target}: {verdict.Reason}");
            Assert.Equal(sealedBackup.Id, verdict.BackupId);
            Assert.Contains("sha256 matches the record", verdict.Reason, StringComparison.Ordinal);
            Assert.Equal($"ok ({Canary.KeyOf("sealed")} holds record {sealedBackup.Id})", verdict.Canary);
            Assert.True(verdict.Revision >= sealedBackup.Revision, $"{verdict.Revision} < {sealedBackup.Revision}");
            Assert.True(verdict.KeyCount >= 6, $"{verdict.KeyCount} keys"); // five of the app's and the canary
            Assert.True(verdict.Rto > TimeSpan.Zero);
            Assert.Null(verdict.Deltas); // not a continuous cluster
        }

        // Raw, Every = 2: the first backup is not drilled, the second is.
        var rawFirst = await BackupAsync(runner, "raw");
        var rawSecond = await BackupAsync(runner, "raw");
        var rawVerdict = Assert.Single(await FinishedAsync(ledger, "raw", rawSecond.FileName!, ["local"]));
        Assert.True(rawVerdict.Outcome == DrillOutcome.Passed, rawVerdict.Reason);
        Assert.Equal($"ok ({Canary.KeyOf("raw")} holds record {rawSecond.Id})", rawVerdict.Canary);
        Assert.False((await ledger.LatestByCopyAsync("raw", CancellationToken.None)).ContainsKey((rawFirst.FileName!, "local")));

        // The drill gauges show the newest passed drill per cluster and target.
        var metrics = app.Services.GetRequiredService<BackupMetrics>();
        await metrics.RefreshAsync(CancellationToken.None);
        using var viewer = new HttpClient { BaseAddress = app.Address };
        viewer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Viewer);
        var s3Verdict = sealedVerdicts.Single(v => v.Target == "s3");
        var text = await MetricsTests.ScrapeUntilAsync(viewer, t => MetricsTests.Value(t, "etcd_backup_drill_rto_seconds", "cluster=\"sealed\",target=\"s3\"") is not null);
        Assert.Equal(s3Verdict.FinishedAt!.Value.ToUnixTimeMilliseconds() / 1000.0, MetricsTests.Value(text, "etcd_backup_drill_last_success_timestamp_seconds", "cluster=\"sealed\",target=\"s3\"")!.Value, 3);
        Assert.Equal(s3Verdict.Rto!.Value.TotalSeconds, MetricsTests.Value(text, "etcd_backup_drill_rto_seconds", "cluster=\"sealed\",target=\"s3\"")!.Value, 3);
        Assert.NotNull(MetricsTests.Value(text, "etcd_backup_drill_rto_seconds", "cluster=\"raw\",target=\"local\""));

        // A drill cancelled while its throwaway etcd serves leaves no process and no staging behind.
        Assert.True(SnapshotName.TryParse(sealedBackup.FileName!, out var sealedName));
        using var cancel = new CancellationTokenSource();
        IReadOnlyList<int> runningAtCancel = [];
        void OnChanged()
        {
            if (drills.Current?.Phase == "checking" && !cancel.IsCancellationRequested)
            {
                runningAtCancel = DrillService.ProcessesUnder(drills.Root);
                cancel.Cancel();
            }
        }

        drills.Changed += OnChanged;
        var cancelled = await drills.RunAsync(new DrillJob(sealedName, "local", null, "test"), cancel.Token);
        drills.Changed -= OnChanged;
        Assert.Equal(DrillOutcome.Failed, cancelled.Outcome);
        Assert.Single(runningAtCancel);
        Assert.Empty(DrillService.ProcessesUnder(drills.Root));
        Assert.Empty(Directory.EnumerateFileSystemEntries(drills.Root));

        // Altered after upload: bytes flipped in the local raw copy, another object put in s3 under the sealed copy's key.
        Assert.True(SnapshotName.TryParse(rawSecond.FileName!, out var rawName));
        var rawPath = Assert.Single(rawSecond.Location!.Split('\n'));
        await using (var file = new FileStream(rawPath, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length / 2;
            var b = file.ReadByte();
            file.Position = file.Length / 2;
            file.WriteByte((byte)(b ^ 0xFF));
        }

        var s3Store = (S3SnapshotStore)app.Services.GetRequiredService<SnapshotStores>().Get("s3");
        await s3Store.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3rver.Bucket, Key = s3Store.KeyOf(sealedName), InputStream = new MemoryStream(new byte[4096]) });
        Assert.True((await drills.RequestAsync(rawName, "local", TestActors.Of("test"), CancellationToken.None)).Accepted);
        Assert.True((await drills.RequestAsync(sealedName, "s3", TestActors.Of("test"), CancellationToken.None)).Accepted);
        var altered = await Eventually.ValueAsync(
            () => ledger.LatestByCopyAsync(null, CancellationToken.None),
            l => l[(rawName.FileName, "local")].Id > rawVerdict.Id && l[(rawName.FileName, "local")].Outcome != DrillOutcome.Running
                 && l[(sealedName.FileName, "s3")].Id > s3Verdict.Id && l[(sealedName.FileName, "s3")].Outcome != DrillOutcome.Running,
            DrillWait);
        var rawAltered = altered[(rawName.FileName, "local")];
        Assert.Equal(DrillOutcome.Failed, rawAltered.Outcome);
        Assert.Contains("sha256", rawAltered.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("test", rawAltered.RequestedBy);
        var s3Altered = altered[(sealedName.FileName, "s3")];
        Assert.Equal(DrillOutcome.Failed, s3Altered.Outcome);
        Assert.StartsWith("fetching: ", s3Altered.Reason, StringComparison.Ordinal);
        Assert.Null(s3Altered.Rto);
    }

    [Fact]
    public async Task Start_up_fails_drills_left_running_by_this_replica_and_removes_their_staging_and_orphaned_etcd()
    {
        using var data = new TestDirectory("drill-restart");
        var settings = new Dictionary<string, string?> { ["Console:Replica:Name"] = "drill-replica" };
        long left;
        string root;
        await using (var first = ConsoleApp.Start(settings, data.Path))
        {
            root = first.Services.GetRequiredService<DrillService>().Root;
            left = await first.Services.GetRequiredService<DrillLedger>().StartAsync(
                new DrillVerdict { Cluster = "prod", FileName = "prod_1.db", Target = "local", StartedAt = DateTimeOffset.UtcNow, Replica = "drill-replica" },
                CancellationToken.None);
        }

        // What a kill -9 during a drill leaves: the staged copy and an etcd still running on a data dir under drills/.
        var staging = Path.Combine(root, "41");
        Directory.CreateDirectory(staging);
        await File.WriteAllTextAsync(Path.Combine(staging, "prod_1.db"), "staged");
        var ports = FreePorts.Pick(2);
        var layout = new EtcdMemberLayout("inspect", ports[0], ports[1], Path.Combine(staging, "inspect-x", "data"));
        await using var orphan = EtcdProcess.Start("etcd", layout, EtcdMemberLayout.InitialCluster([layout]), "orphan");
        Assert.Contains(orphan.Pid, DrillService.ProcessesUnder(root));

        await using var second = ConsoleApp.Start(settings, data.Path);
        var ledger = second.Services.GetRequiredService<DrillLedger>();
        var verdict = await Eventually.ValueAsync(
            async () => (await ledger.HistoryAsync("prod_1.db", "local", CancellationToken.None)).Single(),
            v => v.Outcome != DrillOutcome.Running,
            DrillWait);
        Assert.Equal((left, DrillOutcome.Failed, DrillService.StoppedReason), (verdict.Id, verdict.Outcome, verdict.Reason));
        await Eventually.ValueAsync(() => Task.FromResult(orphan.HasExited && !Directory.Exists(staging)), done => done, DrillWait);
        Assert.Empty(DrillService.ProcessesUnder(root));
    }

    [Fact]
    public async Task In_continuous_mode_a_drill_replays_the_deltas_after_its_snapshot_up_to_the_newest_durable_revision()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        var settings = TestTokens.Settings().Concat(CaptureOracle.Settings(etcd)).ToDictionary();
        settings["Console:Clusters:0:Backup:Drill:Enabled"] = "true";
        await using var app = ConsoleApp.Start(settings);
        await CaptureOracle.BaseRevisionAsync(app.Services);
        var window = await app.Services.GetRequiredService<IDeltaHistory>().WindowAsync(CaptureOracle.Name, CancellationToken.None);
        var baseFile = Assert.Single(window.Spans).BaseSnapshot;
        using var writer = new EtcdWriter(etcd.Endpoints[0]);
        long head = 0;
        for (var i = 0; i < 3; i++)
        {
            head = await writer.PutAsync($"/c/{i}", "after the snapshot");
        }

        await CaptureOracle.DurableAtLeastAsync(app.Services, head);
        var ledger = app.Services.GetRequiredService<DrillLedger>();
        await FinishedAsync(ledger, CaptureOracle.Cluster, baseFile, ["local"]); // the drill queued after the base snapshot
        Assert.True(SnapshotName.TryParse(baseFile, out var name));
        var verdict = await app.Services.GetRequiredService<DrillService>().RunAsync(new DrillJob(name, "local", null, "test"), CancellationToken.None);

        Assert.True(verdict.Outcome == DrillOutcome.Passed, verdict.Reason);
        var match = System.Text.RegularExpressions.Regex.Match(verdict.Deltas!, @"^deltas: replayed (\d+) revision\(s\) from (\d+) segment\(s\) onto revision (\d+), reaching (\d+), the newest durable revision; the result restores with (\d+) keys$");
        Assert.True(match.Success, verdict.Deltas);
        long Group(int i) => long.Parse(match.Groups[i].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Group(1) >= 3, verdict.Deltas); // the three puts at least
        Assert.True(Group(2) >= 1, verdict.Deltas);
        Assert.Equal(verdict.Revision, Group(3));
        Assert.True(Group(4) >= head, verdict.Deltas);
        Assert.Equal(verdict.KeyCount + 3, Group(5)); // the copy's keys and the three written after it
    }

    [TmpfsFact]
    public async Task A_drill_whose_staging_cannot_hold_three_times_the_snapshot_is_refused_with_the_reason_before_fetching()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var data = new TestDirectory("drill-space");
        using var disk = Tmpfs.Mount(Path.Combine(data.Path, "drills"), 2);
        var settings = TestTokens.Cluster(etcd);
        settings["Console:Clusters:0:Backup:Drill:Enabled"] = "true";
        await using var app = ConsoleApp.Start(settings, data.Path);
        var client = new EtcdClusterClient(etcd.Spec(), TimeSpan.FromSeconds(5));
        using var disposeClient = client;
        var value = new string('v', 512 * 1024);
        for (var i = 0; i < 2; i++)
        {
            await client.PutAsync(etcd.Endpoints[0], $"/big/{i}", value, CancellationToken.None);
        }

        var backup = await BackupAsync(app.Services.GetRequiredService<BackupRunner>(), "test");
        Assert.True(backup.SizeBytes * 3 > disk.FreeBytes, $"{backup.SizeBytes} bytes, {disk.FreeBytes} free");
        var verdict = Assert.Single(await FinishedAsync(app.Services.GetRequiredService<DrillLedger>(), "test", backup.FileName!, ["local"]));

        Assert.Equal(DrillOutcome.Failed, verdict.Outcome);
        Assert.StartsWith("checking free space: ", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("less than 3x the snapshot's", verdict.Reason, StringComparison.Ordinal);
        Assert.Null(verdict.Rto);
        Assert.Empty(Directory.EnumerateFileSystemEntries(disk.Directory));
    }

    private static async Task<BackupRecord> BackupAsync(BackupRunner runner, string cluster)
    {
        var record = await runner.RunAsync(cluster, BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        Assert.True(record.Status == BackupStatus.Succeeded, record.Error);
        return record;
    }

    private static async Task<IReadOnlyList<DrillVerdict>> FinishedAsync(DrillLedger ledger, string cluster, string fileName, string[] targets)
    {
        var latest = await Eventually.ValueAsync(
            () => ledger.LatestByCopyAsync(cluster, CancellationToken.None),
            l => targets.All(t => l.TryGetValue((fileName, t), out var v) && v.Outcome != DrillOutcome.Running),
            DrillWait);
        return [.. targets.Select(t => latest[(fileName, t)])];
    }
}
