using Console.Domain.Backups;
using Console.Domain.Restore;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Restore;
using Console.Infrastructure.Sealing;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Sealing;

/// <summary>The wizard restores a real sandbox from a compressed, encrypted copy in S3 (s3rver).</summary>
public sealed class SealedRestoreTests
{
    [Fact]
    public async Task A_zstd_age_copy_in_s3_is_refused_without_the_right_identity_then_restored_with_it_and_proven()
    {
        await using var s3 = await S3rver.StartAsync();
        using var keys = await AgeKeys.CreateAsync();
        var settings = new Dictionary<string, string?>(s3.ConfigurationKeys())
        {
            ["Console:Sandbox:Enabled"] = "true",
            ["Console:Sandbox:Members"] = "1",
            ["Console:Sandbox:SeedKeys"] = "5",
            ["Console:Sandbox:Backup:Targets:0"] = "s3",
            ["Console:Sandbox:Backup:Compression:Codec"] = "zstd",
            ["Console:Sandbox:Backup:Encryption:Recipients:0"] = keys.Recipient,
        };
        await using var app = ConsoleApp.Start(settings);
        var spec = app.Services.GetRequiredService<ClusterCatalog>().Find("sandbox")!;
        var client = app.Services.GetRequiredService<EtcdClusterClientFactory>().For(spec);
        await app.WaitForFirstBackupAsync();
        await client.PutAsync(spec.Endpoints[0], "/state", "in the backup", CancellationToken.None);
        var backup = await app.Services.GetRequiredService<BackupRunner>().RunAsync("sandbox", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        Assert.True(backup.Status == BackupStatus.Succeeded, backup.Error);
        Assert.EndsWith(".db.zst.age", backup.FileName, StringComparison.Ordinal);
        await client.PutAsync(spec.Endpoints[0], "/state", "written after the backup", CancellationToken.None);

        var wizard = app.Services.GetRequiredService<RestoreWizard>();
        var who = TestActors.Of("test");
        await wizard.BeginAsync("sandbox", who, CancellationToken.None);
        Assert.True((await wizard.ChooseAsync("sandbox", "s3", backup.FileName!, who, CancellationToken.None)).Ok);

        // No identity configured, then a wrong one given: refused in words naming the recipient, still at Verify.
        var none = await wizard.VerifyAsync("sandbox", who, CancellationToken.None);
        Assert.False(none.Ok);
        Assert.Contains("no identity is configured", none.Message, StringComparison.Ordinal);
        var wrong = await wizard.VerifyAsync("sandbox", who, CancellationToken.None, [AgeIdentity.Generate()]);
        Assert.False(wrong.Ok);
        Assert.Contains(keys.Recipient, wrong.Message, StringComparison.Ordinal);
        Assert.Equal(RestoreStep.Verify, (await wizard.CurrentAsync("sandbox", CancellationToken.None))!.Step);
        Assert.Equal("written after the backup", await client.GetAsync(spec.Endpoints[0], "/state", CancellationToken.None));

        var right = await wizard.VerifyAsync("sandbox", who, CancellationToken.None, AgeIdentity.ReadFile(keys.IdentityFile));
        Assert.True(right.Ok, right.Message);
        Assert.Equal(backup.Sha256, right.Session!.Sha256);
        Assert.True((await wizard.ConfirmPlanAsync("sandbox", who, CancellationToken.None)).Ok);
        Assert.True((await wizard.TakeSafetySnapshotAsync("sandbox", who, CancellationToken.None)).Ok);
        Assert.True((await wizard.StopMembersAsync("sandbox", "sandbox", who, CancellationToken.None)).Ok);
        var restored = await wizard.RestoreDataAsync("sandbox", "restore sandbox", who, CancellationToken.None);
        Assert.True(restored.Ok, restored.Message);
        Assert.True((await wizard.StartMembersAsync("sandbox", who, CancellationToken.None)).Ok);
        var proof = await wizard.ProveAsync("sandbox", who, CancellationToken.None);
        Assert.True(proof.Ok, string.Join("; ", proof.Session!.Report.Select(r => $"{r.Check}: {r.Detail}")));
        using var fresh = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5));
        Assert.Equal("in the backup", await fresh.GetAsync(spec.Endpoints[0], "/state", CancellationToken.None));
    }
}
