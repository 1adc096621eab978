using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Etcd;
using Console.Domain.Restore;
using Console.Infrastructure.Restore;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Restore;

internal static class RestorePhrasesFor
{
    public const string NoSafety = Console.Domain.Restore.RestorePhrases.ProceedWithoutSafetySnapshot;
}

/// <summary>The wizard's safety rules, driven through its service on a real sandbox.</summary>
public sealed class RestoreWizardServiceTests
{
    private static async Task<(ConsoleApp App, RestoreWizard Wizard, EtcdClusterClient Client, Console.Domain.Clusters.ClusterSpec Spec, BackupRecord Backup)> SandboxAsync(int members)
    {
        var app = ConsoleApp.Start(new Dictionary<string, string?> { ["Console:Sandbox:Enabled"] = "true", ["Console:Sandbox:Members"] = members.ToString(System.Globalization.CultureInfo.InvariantCulture), ["Console:Sandbox:SeedKeys"] = "5" });
        var spec = app.Services.GetRequiredService<ClusterCatalog>().Find("sandbox")!;
        var client = app.Services.GetRequiredService<EtcdClusterClientFactory>().For(spec);
        var runner = app.Services.GetRequiredService<BackupRunner>();
        await app.WaitForFirstBackupAsync();
        await client.PutAsync(spec.Endpoints[0], "/state", "original", CancellationToken.None);
        var backup = await runner.RunAsync("sandbox", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        return (app, app.Services.GetRequiredService<RestoreWizard>(), client, spec, backup);
    }

    [Fact]
    public async Task A_corrupted_snapshot_is_refused_at_verify_and_the_wizard_goes_no_further()
    {
        var (app, wizard, client, spec, backup) = await SandboxAsync(1);
        await using var _ = app;
        var path = backup.Location!;
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x10;
        await File.WriteAllBytesAsync(path, bytes);

        await wizard.BeginAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
        await wizard.ChooseAsync("sandbox", "local", backup.FileName!, TestActors.Of("test"), CancellationToken.None);
        var verify = await wizard.VerifyAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
        var skip = await wizard.ConfirmPlanAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
        var stop = await wizard.StopMembersAsync("sandbox", "sandbox", TestActors.Of("test"), CancellationToken.None);

        Assert.False(verify.Ok);
        Assert.Contains("refused", verify.Message, StringComparison.Ordinal);
        Assert.Contains("does not match its content", verify.Message, StringComparison.Ordinal);
        Assert.Equal(RestoreStep.Verify, verify.Session!.Step);
        Assert.False(skip.Ok);
        Assert.False(stop.Ok);
        Assert.Contains("not possible at the Verify step", stop.Message, StringComparison.Ordinal);
        Assert.Equal("original", await client.GetAsync(spec.Endpoints[0], "/state", CancellationToken.None));
    }

    [Fact]
    public async Task Wrong_phrases_do_nothing_and_a_failure_mid_restore_rolls_back_to_the_original_data()
    {
        var (app, wizard, client, spec, backup) = await SandboxAsync(3);
        await using var _ = app;
        await client.PutAsync(spec.Endpoints[0], "/state", "after the backup", CancellationToken.None);
        await wizard.BeginAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
        await wizard.ChooseAsync("sandbox", "local", backup.FileName!, TestActors.Of("test"), CancellationToken.None);
        Assert.True((await wizard.VerifyAsync("sandbox", TestActors.Of("test"), CancellationToken.None)).Ok);
        await wizard.ConfirmPlanAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
        Assert.True((await wizard.TakeSafetySnapshotAsync("sandbox", TestActors.Of("test"), CancellationToken.None)).Ok);

        var wrongStop = await wizard.StopMembersAsync("sandbox", "Sandbox", TestActors.Of("test"), CancellationToken.None);
        Assert.False(wrongStop.Ok);
        Assert.Equal("after the backup", await client.GetAsync(spec.Endpoints[0], "/state", CancellationToken.None));
        Assert.True((await wizard.StopMembersAsync("sandbox", "sandbox", TestActors.Of("test"), CancellationToken.None)).Ok);
        Assert.NotNull(await app.Services.GetRequiredService<BackupRunner>().SuspendedBecauseAsync("sandbox", CancellationToken.None));

        var session = await wizard.CurrentAsync("sandbox", CancellationToken.None);
        var plan = wizard.PlanOf(session!)!;
        var wrongRestore = await wizard.RestoreDataAsync("sandbox", "restore", TestActors.Of("test"), CancellationToken.None);
        Assert.False(wrongRestore.Ok);
        Assert.All(plan.Members, m => Assert.False(Directory.Exists(m.AsideDir)));

        // Inject a failure: something already occupies the second member's restore directory.
        Directory.CreateDirectory(plan.Members[1].RestoreDir);
        var failed = await wizard.RestoreDataAsync("sandbox", "restore sandbox", TestActors.Of("test"), CancellationToken.None);

        Assert.False(failed.Ok);
        Assert.Equal(RestoreStep.Failed, failed.Session!.Step);
        Assert.Equal(MemberState.Restored, failed.Session.Members["m1"].State);
        Assert.Equal(MemberState.RestoreFailed, failed.Session.Members["m2"].State);
        Assert.True(Directory.Exists(plan.Members[0].AsideDir), "m1's original data is kept aside");

        var rolledBack = await wizard.RollBackAsync("sandbox", TestActors.Of("test"), CancellationToken.None);

        Assert.True(rolledBack.Ok, rolledBack.Message);
        Assert.Equal(RestoreStep.RolledBack, rolledBack.Session!.Step);
        using var fresh = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5));
        var value = await Eventually.ValueAsync(
            async () => { try { return await fresh.GetAsync(spec.Endpoints[0], "/state", CancellationToken.None); } catch (EtcdException) { return null; } },
            v => v is not null,
            TimeSpan.FromSeconds(60));
        Assert.Equal("after the backup", value);
        var statuses = await Eventually.ValueAsync(
            async () => { try { return await Task.WhenAll(spec.Endpoints.Select(e => fresh.StatusAsync(e, CancellationToken.None))); } catch (EtcdException) { return []; } },
            s => s.Length == 3 && s.All(x => x.Leader != 0),
            TimeSpan.FromSeconds(60));
        Assert.Single(statuses.Select(s => s.Leader).Distinct());
        Assert.Null(await app.Services.GetRequiredService<BackupRunner>().SuspendedBecauseAsync("sandbox", CancellationToken.None));
        var trail = await wizard.AuditAsync(rolledBack.Session, CancellationToken.None);
        Assert.Contains(trail, a => a.Action == "restore data" && a.Outcome != "ok" && a.Detail.Contains("nothing was done", StringComparison.Ordinal));
        Assert.Contains(trail, a => a.Action == "roll back" && a.Outcome == "ok");
    }

    [Fact]
    public async Task A_console_restart_mid_restore_resumes_at_the_same_step_with_backups_still_suspended()
    {
        using var data = new TestDirectory("resume");
        var settings = new Dictionary<string, string?> { ["Console:Sandbox:Enabled"] = "true", ["Console:Sandbox:Members"] = "1", ["Console:Sandbox:SeedKeys"] = "5" };
        await using (var first = ConsoleApp.Start(settings, data.Path))
        {
            var runner = first.Services.GetRequiredService<BackupRunner>();
            await first.WaitForFirstBackupAsync();
            var firstSpec = first.Services.GetRequiredService<ClusterCatalog>().Find("sandbox")!;
            var firstClient = first.Services.GetRequiredService<EtcdClusterClientFactory>().For(firstSpec);
            await firstClient.PutAsync(firstSpec.Endpoints[0], "/state", "in the backup", CancellationToken.None);
            var backup = await runner.RunAsync("sandbox", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
            await firstClient.PutAsync(firstSpec.Endpoints[0], "/state", "written after the backup", CancellationToken.None);
            var wizard = first.Services.GetRequiredService<RestoreWizard>();
            await wizard.BeginAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
            await wizard.ChooseAsync("sandbox", "local", backup.FileName!, TestActors.Of("test"), CancellationToken.None);
            await wizard.VerifyAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
            await wizard.ConfirmPlanAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
            await wizard.TakeSafetySnapshotAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
            Assert.True((await wizard.StopMembersAsync("sandbox", "sandbox", TestActors.Of("test"), CancellationToken.None)).Ok);
        }

        await using var second = ConsoleApp.Start(settings, data.Path);
        var resumed = await second.Services.GetRequiredService<RestoreWizard>().CurrentAsync("sandbox", CancellationToken.None);

        Assert.Equal(RestoreStep.RestoreData, resumed!.Step);
        Assert.Contains("a restore is in progress", await second.Services.GetRequiredService<BackupRunner>().SuspendedBecauseAsync("sandbox", CancellationToken.None), StringComparison.Ordinal);
        var start = await second.Services.GetRequiredService<BackupRunner>().StartAsync("sandbox", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        Assert.IsType<BackupStart.Suspended>(start);

        // The restarted console brought the sandbox's members up again; the restore must stop them before touching
        // their data, so that what is proven is really the snapshot's content.
        var wizard2 = second.Services.GetRequiredService<RestoreWizard>();
        var restored = await wizard2.RestoreDataAsync("sandbox", "restore sandbox", TestActors.Of("test"), CancellationToken.None);
        Assert.True(restored.Ok, restored.Message);
        Assert.True((await wizard2.StartMembersAsync("sandbox", TestActors.Of("test"), CancellationToken.None)).Ok);
        var proof = await wizard2.ProveAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
        Assert.True(proof.Ok, string.Join("; ", proof.Session!.Report.Select(r => $"{r.Check}: {r.Detail}")));
        var spec = second.Services.GetRequiredService<ClusterCatalog>().Find("sandbox")!;
        using var fresh = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5));
        Assert.Equal("in the backup", await fresh.GetAsync(spec.Endpoints[0], "/state", CancellationToken.None));
    }

    [Fact]
    public async Task Abandoning_after_the_stop_starts_the_members_again_on_their_untouched_data()
    {
        var (app, wizard, client, spec, backup) = await SandboxAsync(1);
        await using var _ = app;
        await wizard.BeginAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
        await wizard.ChooseAsync("sandbox", "local", backup.FileName!, TestActors.Of("test"), CancellationToken.None);
        await wizard.VerifyAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
        await wizard.ConfirmPlanAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
        var without = await wizard.ProceedWithoutSafetySnapshotAsync("sandbox", RestorePhrasesFor.NoSafety, TestActors.Of("test"), CancellationToken.None);
        Assert.False(without.Ok); // members answer: the phrase is not an option then
        await wizard.TakeSafetySnapshotAsync("sandbox", TestActors.Of("test"), CancellationToken.None);
        Assert.True((await wizard.StopMembersAsync("sandbox", "sandbox", TestActors.Of("test"), CancellationToken.None)).Ok);

        var abandoned = await wizard.AbandonAsync("sandbox", TestActors.Of("test"), CancellationToken.None);

        Assert.True(abandoned.Ok, abandoned.Message);
        Assert.Equal(RestoreStep.RolledBack, abandoned.Session!.Step);
        using var fresh = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5));
        var value = await Eventually.ValueAsync(async () => { try { return await fresh.GetAsync(spec.Endpoints[0], "/state", CancellationToken.None); } catch (EtcdException) { return null; } }, v => v is not null, TimeSpan.FromSeconds(30));
        Assert.Equal("original", value);
        Assert.Null(await app.Services.GetRequiredService<BackupRunner>().SuspendedBecauseAsync("sandbox", CancellationToken.None));
    }

    [Fact]
    public async Task A_member_run_by_hand_is_marked_done_only_once_it_no_longer_answers()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        var member = etcd.Members[0].Layout;
        await using var app = ConsoleApp.Start(new Dictionary<string, string?>
        {
            ["Console:Clusters:0:Name"] = "byhand",
            ["Console:Clusters:0:Endpoints:0"] = etcd.Endpoints[0].ToString().TrimEnd('/'),
            ["Console:Clusters:0:Members:0:Name"] = "m1",
            ["Console:Clusters:0:Members:0:PeerUrl"] = member.PeerUrl.ToString().TrimEnd('/'),
            ["Console:Clusters:0:Members:0:DataDir"] = member.DataDir,
            ["Console:Clusters:0:Members:0:Control"] = "Manual",
        });
        var runner = app.Services.GetRequiredService<BackupRunner>();
        var backup = await runner.RunAsync("byhand", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        var wizard = app.Services.GetRequiredService<RestoreWizard>();
        await wizard.BeginAsync("byhand", TestActors.Of("test"), CancellationToken.None);
        await wizard.ChooseAsync("byhand", "local", backup.FileName!, TestActors.Of("test"), CancellationToken.None);
        Assert.True((await wizard.VerifyAsync("byhand", TestActors.Of("test"), CancellationToken.None)).Ok);
        await wizard.ConfirmPlanAsync("byhand", TestActors.Of("test"), CancellationToken.None);
        await wizard.TakeSafetySnapshotAsync("byhand", TestActors.Of("test"), CancellationToken.None);

        var stop = await wizard.StopMembersAsync("byhand", "byhand", TestActors.Of("test"), CancellationToken.None);
        Assert.Equal(MemberState.AwaitingStop, stop.Session!.Members["m1"].State);
        var tooEarly = await wizard.MarkDoneAsync("byhand", "m1", TestActors.Of("test"), CancellationToken.None);
        Assert.False(tooEarly.Ok);
        Assert.Contains("still answers", tooEarly.Message, StringComparison.Ordinal);

        await etcd.StopAllAsync();
        var stopped = await wizard.MarkDoneAsync("byhand", "m1", TestActors.Of("test"), CancellationToken.None);
        Assert.True(stopped.Ok, stopped.Message);
        Assert.Equal(RestoreStep.RestoreData, stopped.Session!.Step);

        var restore = await wizard.RestoreDataAsync("byhand", "restore byhand", TestActors.Of("test"), CancellationToken.None);
        Assert.Equal(MemberState.AwaitingRestore, restore.Session!.Members["m1"].State);
        Assert.False(Directory.Exists(wizard.PlanOf(restore.Session)!.Members[0].AsideDir), "the console never touches a member it does not control");
        var restored = await wizard.MarkDoneAsync("byhand", "m1", TestActors.Of("test"), CancellationToken.None);
        Assert.Equal(RestoreStep.StartMembers, restored.Session!.Step);
    }

    [Fact]
    public async Task A_member_under_command_control_is_stopped_restored_and_started_by_its_command_templates()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        var layout = etcd.Members[0].Layout;
        using var scripts = new TestDirectory("commands");
        var pidFile = scripts.Combine("etcd.pid");
        var client = layout.ClientUrl.ToString().TrimEnd('/');
        var peer = layout.PeerUrl.ToString().TrimEnd('/');
        await File.WriteAllTextAsync(scripts.Combine("start.sh"),
            $"nohup etcd --name m1 --data-dir '{layout.DataDir}' --listen-client-urls {client} --advertise-client-urls {client} " +
            $"--listen-peer-urls {peer} --initial-advertise-peer-urls {peer} --initial-cluster m1={peer} > '{scripts.Combine("etcd.log")}' 2>&1 &\necho $! > '{pidFile}'\n");
        await File.WriteAllTextAsync(scripts.Combine("stop.sh"),
            $"pid=$(cat '{pidFile}'); kill $pid; while kill -0 $pid 2>/dev/null; do sleep 0.1; done\n");
        await etcd.StopAllAsync();
        await RunAsync($"sh '{scripts.Combine("start.sh")}'");
        try
        {
            await using var app = ConsoleApp.Start(new Dictionary<string, string?>
            {
                ["Console:Clusters:0:Name"] = "cmd",
                ["Console:Clusters:0:Endpoints:0"] = client,
                ["Console:Clusters:0:Members:0:Name"] = "m1",
                ["Console:Clusters:0:Members:0:PeerUrl"] = peer,
                ["Console:Clusters:0:Members:0:DataDir"] = layout.DataDir,
                ["Console:Clusters:0:Members:0:Control"] = "Command",
                ["Console:Clusters:0:Members:0:Commands:Stop"] = $"sh '{scripts.Combine("stop.sh")}'",
                ["Console:Clusters:0:Members:0:Commands:Start"] = $"sh '{scripts.Combine("start.sh")}'",
            });
            var spec = app.Services.GetRequiredService<ClusterCatalog>().Find("cmd")!;
            var etcdClient = app.Services.GetRequiredService<EtcdClusterClientFactory>().For(spec);
            await Eventually.ValueAsync(async () => { try { return (await etcdClient.StatusAsync(layout.ClientUrl, CancellationToken.None)).Leader; } catch (EtcdException) { return 0UL; } }, l => l != 0, TimeSpan.FromSeconds(30));
            await etcdClient.PutAsync(layout.ClientUrl, "/a", "kept", CancellationToken.None);
            var backup = await app.Services.GetRequiredService<BackupRunner>().RunAsync("cmd", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
            await etcdClient.PutAsync(layout.ClientUrl, "/b", "gone after the restore", CancellationToken.None);
            var wizard = app.Services.GetRequiredService<RestoreWizard>();
            await wizard.BeginAsync("cmd", TestActors.Of("test"), CancellationToken.None);
            await wizard.ChooseAsync("cmd", "local", backup.FileName!, TestActors.Of("test"), CancellationToken.None);
            Assert.True((await wizard.VerifyAsync("cmd", TestActors.Of("test"), CancellationToken.None)).Ok);
            await wizard.ConfirmPlanAsync("cmd", TestActors.Of("test"), CancellationToken.None);
            await wizard.TakeSafetySnapshotAsync("cmd", TestActors.Of("test"), CancellationToken.None);

            var stop = await wizard.StopMembersAsync("cmd", "cmd", TestActors.Of("test"), CancellationToken.None);
            Assert.True(stop.Ok, stop.Message + " " + string.Join("; ", stop.Session!.Members.Values));
            Assert.Contains("exited 0", stop.Session.Members["m1"].Detail, StringComparison.Ordinal);
            Assert.True((await wizard.RestoreDataAsync("cmd", "restore cmd", TestActors.Of("test"), CancellationToken.None)).Ok);
            var start = await wizard.StartMembersAsync("cmd", TestActors.Of("test"), CancellationToken.None);
            Assert.True(start.Ok, start.Message);
            var proof = await wizard.ProveAsync("cmd", TestActors.Of("test"), CancellationToken.None);

            Assert.True(proof.Ok, string.Join("; ", proof.Session!.Report.Select(r => $"{r.Check}: {r.Detail}")));
            Assert.Equal("kept", await etcdClient.GetAsync(layout.ClientUrl, "/a", CancellationToken.None));
            Assert.Null(await etcdClient.GetAsync(layout.ClientUrl, "/b", CancellationToken.None));
        }
        finally
        {
            await RunAsync($"[ -f '{pidFile}' ] && kill -9 $(cat '{pidFile}') 2>/dev/null; true");
        }
    }

    /// <summary>
    /// etcd's --name differs from the configured name for one member and the configured peer URL of another is not the
    /// one etcd has: the plan is refused with every difference listed, and nothing is stopped, suspended or restored.
    /// </summary>
    [Fact]
    public async Task The_wizard_refuses_before_stopping_anything_when_the_configured_members_are_not_etcd_s()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(size: 2);
        var settings = TestTokens.Cluster(etcd, "renamed");
        var m1 = etcd.Members[0].Layout;
        var m2 = etcd.Members[1].Layout;
        var wrongPeer = new UriBuilder(m2.PeerUrl) { Port = m2.PeerUrl.Port + 1000 }.Uri;
        foreach (var (i, name, peer, dataDir) in new[] { (0, "etcd-a", m1.PeerUrl, m1.DataDir), (1, "m2", wrongPeer, m2.DataDir) })
        {
            settings[$"Console:Clusters:0:Members:{i}:Name"] = name;
            settings[$"Console:Clusters:0:Members:{i}:PeerUrl"] = peer.ToString().TrimEnd('/');
            settings[$"Console:Clusters:0:Members:{i}:DataDir"] = dataDir;
            settings[$"Console:Clusters:0:Members:{i}:Control"] = "Manual";
        }

        await using var app = ConsoleApp.Start(settings);
        var runner = app.Services.GetRequiredService<BackupRunner>();
        var backup = await runner.RunAsync("renamed", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        var wizard = app.Services.GetRequiredService<RestoreWizard>();
        await wizard.BeginAsync("renamed", TestActors.Of("test"), CancellationToken.None);
        await wizard.ChooseAsync("renamed", "local", backup.FileName!, TestActors.Of("test"), CancellationToken.None);
        Assert.True((await wizard.VerifyAsync("renamed", TestActors.Of("test"), CancellationToken.None)).Ok);

        var accept = await wizard.ConfirmPlanAsync("renamed", TestActors.Of("test"), CancellationToken.None);
        var stop = await wizard.StopMembersAsync("renamed", "renamed", TestActors.Of("test"), CancellationToken.None);

        Assert.False(accept.Ok);
        Assert.Contains("'etcd-a' (peer URL " + m1.PeerUrl.GetLeftPart(UriPartial.Authority) + ") is named 'm1' in etcd", accept.Message, StringComparison.Ordinal);
        Assert.Contains("'m2' is configured with peer URL " + wrongPeer.GetLeftPart(UriPartial.Authority), accept.Message, StringComparison.Ordinal);
        Assert.False(stop.Ok);
        Assert.Equal(RestoreStep.Plan, (await wizard.CurrentAsync("renamed", CancellationToken.None))!.Step);
        Assert.All(etcd.Members, m => Assert.False(m.HasExited));
        Assert.Equal(2, etcd.Etcdctl("member", "list").Split('\n').Count(l => l.Contains(", started, ", StringComparison.Ordinal)));
        Assert.Null(await runner.SuspendedBecauseAsync("renamed", CancellationToken.None));
        Assert.All(wizard.PlanOf((await wizard.CurrentAsync("renamed", CancellationToken.None))!)!.Members, m => Assert.False(Directory.Exists(m.AsideDir)));
    }

    /// <summary>
    /// "Down" means the member's own client and peer URLs refuse connections: with etcd stopped but something still
    /// accepting on its peer port (or its client port), the member is not marked stopped.
    /// </summary>
    [Fact]
    public async Task A_member_whose_client_or_peer_url_still_accepts_connections_is_not_down()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        var member = etcd.Members[0].Layout;
        var settings = TestTokens.Cluster(etcd, "probe");
        settings["Console:Clusters:0:Members:0:Name"] = "m1";
        settings["Console:Clusters:0:Members:0:PeerUrl"] = member.PeerUrl.ToString().TrimEnd('/');
        settings["Console:Clusters:0:Members:0:DataDir"] = member.DataDir;
        settings["Console:Clusters:0:Members:0:Control"] = "Manual";
        await using var app = ConsoleApp.Start(settings);
        var backup = await app.Services.GetRequiredService<BackupRunner>().RunAsync("probe", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        var wizard = app.Services.GetRequiredService<RestoreWizard>();
        await wizard.BeginAsync("probe", TestActors.Of("test"), CancellationToken.None);
        await wizard.ChooseAsync("probe", "local", backup.FileName!, TestActors.Of("test"), CancellationToken.None);
        Assert.True((await wizard.VerifyAsync("probe", TestActors.Of("test"), CancellationToken.None)).Ok);
        Assert.True((await wizard.ConfirmPlanAsync("probe", TestActors.Of("test"), CancellationToken.None)).Ok);
        await wizard.TakeSafetySnapshotAsync("probe", TestActors.Of("test"), CancellationToken.None);
        Assert.Equal(MemberState.AwaitingStop, (await wizard.StopMembersAsync("probe", "probe", TestActors.Of("test"), CancellationToken.None)).Session!.Members["m1"].State);
        await etcd.StopAllAsync();

        foreach (var port in new[] { member.PeerUrl.Port, member.ClientUrl.Port })
        {
            var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            try
            {
                var early = await wizard.MarkDoneAsync("probe", "m1", TestActors.Of("test"), CancellationToken.None);
                Assert.False(early.Ok, $"marked down while port {port} accepts connections");
                Assert.Contains($":{port} still accepts connections", early.Message, StringComparison.Ordinal);
            }
            finally
            {
                listener.Stop();
            }
        }

        var stopped = await wizard.MarkDoneAsync("probe", "m1", TestActors.Of("test"), CancellationToken.None);
        Assert.True(stopped.Ok, stopped.Message);
        Assert.Equal(RestoreStep.RestoreData, stopped.Session!.Step);
    }

    private static async Task RunAsync(string command)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/bin/sh", ["-c", command]) { UseShellExecute = false })!;
        await process.WaitForExitAsync();
    }
}
