using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Restore;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Restore;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Restore;

/// <summary>
/// "Restore to a point in time" through the wizard's service on a real sandbox: the window decides what may be chosen,
/// Verify builds the source with the builder (a fake standing for the replay, writing a real snapshot) into staging and
/// inspects it for real, a failed or inconsistent build stays at Verify with nothing touched, and the normal steps then
/// restore the cluster from the built file.
/// </summary>
public sealed class PointInTimeRestoreTests
{
    private static readonly Console.Domain.Access.Actor Admin = TestActors.Of("test");

    [Fact]
    public async Task A_point_in_time_inside_the_window_is_built_at_verify_and_restored_and_a_failed_build_changes_nothing()
    {
        var history = new FakeDeltaHistory();
        var builder = new FakePointInTimeBuilder();
        await using var app = ConsoleApp.Start(
            new Dictionary<string, string?>
            {
                ["Console:Sandbox:Enabled"] = "true",
                ["Console:Sandbox:Members"] = "1",
                ["Console:Sandbox:SeedKeys"] = "5",
                ["Console:Sandbox:Backup:Continuous:Enabled"] = "true",
            },
            services: s => s.AddSingleton<IDeltaHistory>(history).AddSingleton<IPointInTimeBuilder>(builder));
        var spec = app.Services.GetRequiredService<ClusterCatalog>().Find("sandbox")!;
        var client = app.Services.GetRequiredService<EtcdClusterClientFactory>().For(spec);
        var wizard = app.Services.GetRequiredService<RestoreWizard>();
        await app.WaitForFirstBackupAsync();

        // The state at the point to go back to: /state = A, captured as a real snapshot the fake builder hands out.
        await client.PutAsync(spec.Endpoints[0], "/state", "A", CancellationToken.None);
        var keys = await client.CountKeysAsync(spec.Endpoints[0], "", CancellationToken.None);
        var atA = await app.Services.GetRequiredService<BackupRunner>().RunAsync("sandbox", BackupTrigger.Manual, Admin, CancellationToken.None);
        Assert.Equal(BackupStatus.Succeeded, atA.Status);
        var revisionA = atA.Revision!.Value;
        var revisionB = await client.PutAsync(spec.Endpoints[0], "/state", "B", CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        history.Set(new RecoverableWindow(spec.Name, true, [new RecoverableSpan(revisionA - 1, revisionB, now.AddMinutes(-5), now, atA.FileName!)], [], now));

        Assert.True((await wizard.BeginAsync("sandbox", Admin, CancellationToken.None)).Ok);

        // Outside the window: refused, nothing chosen.
        var outside = await wizard.ChoosePointInTimeAsync("sandbox", PointInTimeTarget.AtRevision(revisionB + 100), Admin, CancellationToken.None);
        Assert.False(outside.Ok);
        Assert.Contains("outside the recoverable window", outside.Message, StringComparison.Ordinal);
        Assert.Equal(RestoreStep.Choose, outside.Session!.Step);
        Assert.Null(outside.Session.PointInTime);

        var chosen = await wizard.ChoosePointInTimeAsync("sandbox", PointInTimeTarget.AtRevision(revisionA), Admin, CancellationToken.None);
        Assert.True(chosen.Ok, chosen.Message);
        Assert.Equal(RestoreStep.Verify, chosen.Session!.Step);
        Assert.Equal(PointInTimeTarget.AtRevision(revisionA), chosen.Session.PointInTime);

        // A build that fails: the wizard stays at Verify with the builder's words; no file is left, the cluster is untouched.
        builder.Failure = "segment sandbox_x.delta failed its sha256 check";
        var failed = await wizard.VerifyAsync("sandbox", Admin, CancellationToken.None);
        Assert.False(failed.Ok);
        Assert.Contains("could not be built", failed.Message, StringComparison.Ordinal);
        Assert.Contains("failed its sha256 check", failed.Message, StringComparison.Ordinal);
        Assert.Equal(RestoreStep.Verify, failed.Session!.Step);
        Assert.Null(failed.Session.StagedPath);
        Assert.False(File.Exists(builder.Calls[^1].OutputPath));
        Assert.False((await wizard.ConfirmPlanAsync("sandbox", Admin, CancellationToken.None)).Ok);
        Assert.Equal("B", await client.GetAsync(spec.Endpoints[0], "/state", CancellationToken.None));

        // A build whose report disagrees with what its file holds is refused too (the inspection is real).
        builder.Failure = null;
        builder.Source = (atA.Location!, revisionA + 7, keys, atA.FileName!);
        var lying = await wizard.VerifyAsync("sandbox", Admin, CancellationToken.None);
        Assert.False(lying.Ok);
        Assert.Contains("build reported revision", lying.Message, StringComparison.Ordinal);
        Assert.Equal(RestoreStep.Verify, lying.Session!.Step);

        // A good build: staged in the session's staging dir, inspected, and recorded with how it was made.
        builder.Source = (atA.Location!, revisionA, keys, atA.FileName!);
        var verified = await wizard.VerifyAsync("sandbox", Admin, CancellationToken.None);
        Assert.True(verified.Ok, verified.Message);
        var session = verified.Session!;
        Assert.Equal(RestoreStep.Plan, session.Step);
        Assert.Equal(builder.Calls[^1].OutputPath, session.StagedPath);
        Assert.Equal(PointInTimeTarget.AtRevision(revisionA), builder.Calls[^1].Target);
        Assert.StartsWith(app.Services.GetRequiredService<RestoreStaging>().DirOf(session), session.StagedPath, StringComparison.Ordinal);
        Assert.Equal(revisionA, session.SnapshotRevision);
        Assert.Equal(keys, session.SnapshotKeyCount);
        Assert.Equal(atA.FileName, session.PointInTimeBuilt!.BaseSnapshot);

        // The normal steps, unchanged, restore the built file: A again.
        Assert.True((await wizard.ConfirmPlanAsync("sandbox", Admin, CancellationToken.None)).Ok);
        Assert.True((await wizard.TakeSafetySnapshotAsync("sandbox", Admin, CancellationToken.None)).Ok);
        Assert.True((await wizard.StopMembersAsync("sandbox", "sandbox", Admin, CancellationToken.None)).Ok);
        var restored = await wizard.RestoreDataAsync("sandbox", "restore sandbox", Admin, CancellationToken.None);
        Assert.True(restored.Ok, restored.Message);
        var started = await wizard.StartMembersAsync("sandbox", Admin, CancellationToken.None);
        Assert.True(started.Ok, started.Message);
        var proved = await wizard.ProveAsync("sandbox", Admin, CancellationToken.None);
        Assert.True(proved.Ok, proved.Message);
        using var fresh = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5));
        Assert.Equal("A", await fresh.GetAsync(spec.Endpoints[0], "/state", CancellationToken.None));

        // The restore's trail names the point in time and what the build made of it.
        var trail = await wizard.AuditAsync(proved.Session!, CancellationToken.None);
        Assert.Contains(trail, a => a.Action == "choose point in time" && a.Outcome == "ok" && a.Detail.Contains($"revision {revisionA}", StringComparison.Ordinal));
        Assert.Contains(trail, a => a.Action == "choose point in time" && a.Outcome != "ok" && a.Detail.Contains("outside the recoverable window", StringComparison.Ordinal));
        Assert.Contains(trail, a => a.Outcome == "ok" && a.Detail.Contains($"built revision {revisionA}", StringComparison.Ordinal)
            && a.Detail.Contains(atA.FileName!, StringComparison.Ordinal) && a.Detail.Contains("2 delta segments", StringComparison.Ordinal)
            && a.Detail.Contains($"{keys:N0} keys", StringComparison.Ordinal));
        Assert.Contains(trail, a => a.Outcome != "ok" && a.Detail.Contains("failed its sha256 check", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_cluster_without_continuous_backup_offers_no_point_in_time()
    {
        var history = new FakeDeltaHistory();
        await using var app = ConsoleApp.Start(
            new Dictionary<string, string?> { ["Console:Sandbox:Enabled"] = "true", ["Console:Sandbox:Members"] = "1" },
            services: s => s.AddSingleton<IDeltaHistory>(history).AddSingleton<IPointInTimeBuilder>(new FakePointInTimeBuilder()));
        var wizard = app.Services.GetRequiredService<RestoreWizard>();
        await wizard.BeginAsync("sandbox", Admin, CancellationToken.None);

        var refused = await wizard.ChoosePointInTimeAsync("sandbox", PointInTimeTarget.AtRevision(2), Admin, CancellationToken.None);

        Assert.Null(await wizard.WindowAsync("sandbox", CancellationToken.None));
        Assert.False(refused.Ok);
        Assert.Contains("continuous backup is not on", refused.Message, StringComparison.Ordinal);
        Assert.Equal(RestoreStep.Choose, refused.Session!.Step);
        Assert.Equal(0, history.Reads);
    }
}
